import type { PlatformHandle, PlatformRestorer } from "../../src/core/ports.js";
import { BotError } from "../../src/errors.js";
import type { Logger } from "../../src/logger.js";
import { slackErrorCode } from "./slack-errors.js";
import { describedAttachment, type FileDeps, storedImageAttachment } from "./slack-files.js";
import { PLATFORM } from "./slack-gestures.js";
import { normaliseApiUrl, tokenHostPolicy } from "./slack-hosts.js";
import { SlackThread, type ThreadDeps } from "./slack-thread.js";
import { type Fetch, SlackWeb, type Sleep } from "./slack-web.js";

/**
 * The Slack Web API side of the adapter, on its own: the client (its token checked once with
 * auth.test) and what output threads and file downloads need of it. `startSlack` builds its
 * receiver on top of it; a worker (BOT_ROLE=worker) uses only this to post runs into threads
 * recorded by a gateway.
 */

export const SLACK_DEFAULTS = {
  /** Least time between two edits of a status message (Slack allows about one per second). */
  statusIntervalMs: 1200,
} as const satisfies Record<string, number>;

/** What the Web API needs of the Slack settings. */
export interface SlackWebSettings {
  botToken: string;
  apiUrl: string | undefined;
}

export interface SlackWebSetup {
  slack: SlackWebSettings;
  logger: Logger;
  /** The adapter's HTTP (Web API, file downloads, response_url); the upload POST uses `postBytes`. */
  fetch?: Fetch;
  /** Least time between two edits of a status message (default `SLACK_DEFAULTS`). */
  statusIntervalMs?: number;
  /** WebClient retries of network errors and 5xx answers (default `SLACK_WEB_DEFAULTS`). */
  slackRetries?: number;
  /** Waits for Slack rate limits (Retry-After). */
  sleep?: Sleep;
}

export interface SlackWebKit {
  web: SlackWeb;
  /** The normalised Web API base URL. */
  apiUrl: string;
  fetch: Fetch;
  identity: Awaited<ReturnType<SlackWeb["authTest"]>>;
  files: FileDeps;
  thread: ThreadDeps;
}

/** Slack could not be reached or refused the bot token at start-up. */
export class SlackStartError extends BotError {
  override name = "SlackStartError";
}

/** The Web API client, its token checked (auth.test); a refusal is one SlackStartError line. */
export async function connectSlackWeb(setup: SlackWebSetup): Promise<SlackWebKit> {
  const { slack, logger } = setup;
  const fetch = setup.fetch ?? globalThis.fetch;
  const apiUrl = normaliseApiUrl(slack.apiUrl);
  const tokenHosts = tokenHostPolicy(apiUrl);
  const web = new SlackWeb({
    token: slack.botToken,
    apiUrl,
    fetch,
    logger,
    tokenHosts,
    ...(setup.slackRetries === undefined ? {} : { retries: setup.slackRetries }),
    ...(setup.sleep === undefined ? {} : { sleep: setup.sleep }),
  });
  let identity: SlackWebKit["identity"];
  try {
    identity = await web.authTest();
  } catch (error) {
    const code = slackErrorCode(error);
    throw new SlackStartError(
      "slack_auth",
      code
        ? `Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page.`
        : `Could not reach Slack at ${apiUrl} to check SLACK_BOT_TOKEN; check the network or SLACK_API_URL.`,
      { cause: error },
    );
  }
  return {
    web,
    apiUrl,
    fetch,
    identity,
    files: { web, fetch, token: slack.botToken, tokenHosts, logger },
    thread: { web, logger, statusIntervalMs: setup.statusIntervalMs ?? SLACK_DEFAULTS.statusIntervalMs },
  };
}

/** Threads and references of runs recorded earlier, rebuilt from their records alone. */
export function slackRestorer(kit: Pick<SlackWebKit, "files" | "thread">): PlatformRestorer {
  return {
    platform: PLATFORM,
    thread: (address) => SlackThread.at(kit.thread, address),
    attachment: (descriptor) => describedAttachment(descriptor, kit.files),
    storedImage: (image) => storedImageAttachment(image, kit.files),
  };
}

export interface SlackRestorerHandle extends PlatformHandle {
  restorer: PlatformRestorer;
  botUserId: string;
}

/**
 * Slack for a worker: the Web API only (no HTTP receiver, no Socket Mode, so no signing secret
 * or app token), posting into threads a gateway recorded. Healthy from the token check until
 * stopped, except while Slack refuses the token (revoked, app uninstalled).
 */
export async function startSlackRestorer(setup: SlackWebSetup): Promise<SlackRestorerHandle> {
  const kit = await connectSlackWeb(setup);
  setup.logger.info(`slack web api ready as ${kit.identity.user ?? kit.identity.user_id} (no receiver)`);
  let stopped = false;
  return {
    name: PLATFORM,
    botUserId: kit.identity.user_id,
    restorer: slackRestorer(kit),
    // Ready while Slack takes the token: a revoked one turns /readyz to 503 until it works again.
    healthy: () => !stopped && kit.web.tokenRefused === undefined,
    async stop() {
      stopped = true;
    },
  };
}
