import { FileDownloadError } from "../shared/download-error.js";

/** How Slack says what went wrong, and the Slack-side failures a user may hear about. */

export const missingFilesReadScope = (name: string): FileDownloadError =>
  new FileDownloadError(
    "slack_files_read",
    `Slack sent its sign-in page instead of “${name}”: the bot is most likely missing the files:read scope. An admin can add it under OAuth & Permissions and reinstall the app.`,
  );

/** The error code of a Web API `{ok:false}` answer (`not_in_channel`, `missing_scope`…). */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === "string" ? data.error : undefined;
}

/** The scope Slack says a call needed (`missing_scope` answers carry it). */
export function neededScope(error: unknown): string | undefined {
  const data = (error as { data?: { needed?: unknown } } | undefined)?.data;
  return typeof data?.needed === "string" ? data.needed : undefined;
}

/** Seconds Slack asked us to wait (a 429 seen as WebAPIRateLimitedError), if it was that. */
export function retryAfterSeconds(error: unknown): number | undefined {
  const candidate = error as { code?: unknown; retryAfter?: unknown } | undefined;
  if (candidate?.code !== "slack_webapi_rate_limited_error") return undefined;
  return typeof candidate.retryAfter === "number" ? candidate.retryAfter : 1;
}

/** Slack's answers when the bot may not post in a conversation. */
export function isNotInChannel(error: unknown): boolean {
  const code = slackErrorCode(error);
  return code === "not_in_channel" || code === "channel_not_found" || code === "is_archived";
}
