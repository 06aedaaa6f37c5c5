import { setTimeout as delay } from "node:timers/promises";
import { webApi } from "@slack/bolt";
import type { z } from "zod";
import type { Logger } from "../../src/logger.js";
import type { HostPolicy } from "../shared/host-policy.js";
import { type PostBytes, postBytes } from "../shared/post-bytes.js";
import { retryAfterSeconds, slackErrorCode } from "./slack-errors.js";
import { slackLogger } from "./slack-logger.js";
import {
  authTestSchema,
  completeUploadSchema,
  fileInfoSchema,
  postMessageSchema,
  type SlackFile,
  uploadUrlSchema,
  userInfoSchema,
  viewOpenSchema,
} from "./slack-wire.js";

export type Fetch = typeof globalThis.fetch;
export type Sleep = (ms: number) => Promise<void>;

export interface SlackWebOptions {
  token: string;
  /** Normalised Web API base URL (ends in `/`). */
  apiUrl: string;
  fetch: Fetch;
  /** The upload step's POST of the image bytes (default: Node's client, which sends the Buffer as it is). */
  postBytes?: PostBytes;
  logger: Logger;
  tokenHosts: HostPolicy;
  /** WebClient retries of network errors and 5xx answers. */
  retries?: number;
  /** How often one call waits out a 429 before giving up. */
  rateLimitRetries?: number;
  /** Waits out rate limits (Retry-After); tests pass a recording one. */
  sleep?: Sleep;
}

/** Slack's answers that mean the bot token itself no longer works (revoked, app uninstalled…). */
const TOKEN_REFUSED: ReadonlySet<string> = new Set([
  "invalid_auth",
  "not_authed",
  "token_revoked",
  "token_expired",
  "account_inactive",
]);

export const SLACK_WEB_DEFAULTS = {
  retries: 2,
  rateLimitRetries: 3,
  /** Longest Retry-After worth waiting for within one call. */
  maxRetryAfterSeconds: 120,
  retryMinMs: 500,
  retryMaxMs: 5_000,
  timeoutMs: 60_000,
  uploadTimeoutMs: 120_000,
} as const satisfies Record<string, number>;

export interface UploadInput {
  channel: string;
  threadTs: string;
  bytes: Buffer;
  fileName: string;
  title: string;
  altText: string;
}

/**
 * The Web API calls the adapter makes, with their answers validated. Rate limits are waited out
 * per call (Retry-After), not by pausing the whole client, so a throttled status edit never
 * holds up an image upload.
 */
export class SlackWeb {
  readonly client: InstanceType<typeof webApi.WebClient>;
  /** Slack's code while its last answer refused the token (a readiness check reads it); undefined otherwise. */
  tokenRefused: string | undefined;

  constructor(private readonly options: SlackWebOptions) {
    this.client = new webApi.WebClient(options.token, {
      slackApiUrl: options.apiUrl,
      fetch: options.fetch as webApi.FetchFunction,
      logger: slackLogger(options.logger, { debug: false }),
      retryConfig: {
        retries: options.retries ?? SLACK_WEB_DEFAULTS.retries,
        factor: 2,
        minTimeout: SLACK_WEB_DEFAULTS.retryMinMs,
        maxTimeout: SLACK_WEB_DEFAULTS.retryMaxMs,
      },
      rejectRateLimitedCalls: true,
      // Only method names are ever called; an absolute URL would carry the token elsewhere.
      allowAbsoluteUrls: false,
      timeout: SLACK_WEB_DEFAULTS.timeoutMs,
    });
  }

  async call<S extends z.ZodType>(
    method: string,
    args: Record<string, unknown>,
    schema: S,
  ): Promise<z.output<S>> {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.client.apiCall(method, args);
        this.tokenRefused = undefined;
        return schema.parse(answer);
      } catch (error) {
        this.#noteRefusal(error);
        const wait = retryAfterSeconds(error);
        const retries = this.options.rateLimitRetries ?? SLACK_WEB_DEFAULTS.rateLimitRetries;
        if (wait === undefined || attempt >= retries || wait > SLACK_WEB_DEFAULTS.maxRetryAfterSeconds)
          throw error;
        this.options.logger.warn("slack rate limited a call; waiting", { method, seconds: wait });
        await (this.options.sleep ?? delay)(wait * 1000);
      }
    }
  }

  #noteRefusal(error: unknown): void {
    const code = slackErrorCode(error);
    if (code === undefined || !TOKEN_REFUSED.has(code)) return;
    if (this.tokenRefused === undefined) {
      this.options.logger.error(
        `Slack refused SLACK_BOT_TOKEN (${code}): reinstall the app or set a new token`,
      );
    }
    this.tokenRefused = code;
  }

  authTest() {
    return this.call("auth.test", {}, authTestSchema);
  }

  /** `text` is the message (or, with `blocks`, its notification and accessibility fallback). */
  async postMessage(channel: string, text: string, threadTs?: string, blocks?: unknown[]): Promise<string> {
    const args: Record<string, unknown> = { channel, text, link_names: false, unfurl_links: false };
    if (threadTs !== undefined) args.thread_ts = threadTs;
    if (blocks !== undefined) args.blocks = blocks;
    return (await this.call("chat.postMessage", args, postMessageSchema)).ts;
  }

  /** `blocks: []` removes a message's blocks; leaving them out keeps them (Slack's rule). */
  async updateMessage(channel: string, ts: string, text: string, blocks?: unknown[]): Promise<void> {
    const args: Record<string, unknown> = { channel, ts, text, link_names: false };
    if (blocks !== undefined) args.blocks = blocks;
    await this.call("chat.update", args, postMessageSchema.partial());
  }

  /** Opens a modal; `triggerId` comes from the press and is good for 3 seconds. */
  async openView(triggerId: string, view: Record<string, unknown>): Promise<void> {
    await this.call("views.open", { trigger_id: triggerId, view }, viewOpenSchema);
  }

  /** Whether a member is a workspace admin or owner (needs users:read). */
  async isAdmin(userId: string): Promise<boolean> {
    const { user } = await this.call("users.info", { user: userId }, userInfoSchema);
    return user.is_admin === true || user.is_owner === true;
  }

  async postEphemeral(channel: string, user: string, text: string, threadTs?: string): Promise<void> {
    const args: Record<string, unknown> = { channel, user, text, link_names: false };
    if (threadTs !== undefined) args.thread_ts = threadTs;
    await this.call("chat.postEphemeral", args, postMessageSchema.partial());
  }

  async fileInfo(fileId: string): Promise<SlackFile> {
    return (await this.call("files.info", { file: fileId }, fileInfoSchema)).file;
  }

  /**
   * files.uploadV2's three steps done here, because the WebClient sends the alt text as
   * `alt_text` while Slack documents (and reads) `alt_txt`. Returns the new file id.
   */
  async uploadFile(input: UploadInput): Promise<string> {
    const target = await this.call(
      "files.getUploadURLExternal",
      { filename: input.fileName, length: input.bytes.byteLength, alt_txt: input.altText },
      uploadUrlSchema,
    );
    const uploadUrl = new URL(target.upload_url);
    // The upload URL is pre-signed (no token goes there), but image bytes only go to Slack.
    if (!this.options.tokenHosts(uploadUrl)) {
      throw new Error(`Slack returned an upload URL on an unexpected host (${uploadUrl.host})`);
    }
    const status = await (this.options.postBytes ?? postBytes)(uploadUrl, input.bytes, {
      headers: { "content-type": "application/octet-stream" },
      signal: AbortSignal.timeout(SLACK_WEB_DEFAULTS.uploadTimeoutMs),
    });
    if (status !== 200) {
      throw new Error(`uploading ${input.fileName} to Slack failed with HTTP ${status}`);
    }
    const completed = await this.call(
      "files.completeUploadExternal",
      {
        files: [{ id: target.file_id, title: input.title }],
        channel_id: input.channel,
        thread_ts: input.threadTs,
      },
      completeUploadSchema,
    );
    return completed.files[0]?.id ?? target.file_id;
  }
}
