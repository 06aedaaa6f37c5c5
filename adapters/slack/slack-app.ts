import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { App, SocketModeReceiver, type webApi } from "@slack/bolt";
import type { Handler } from "../../src/core/handler.js";
import type { PlatformHandle } from "../../src/core/ports.js";
import type { BotStore } from "../../src/core/store.js";
import { type HttpRoute, startOpsServer } from "../../src/ops/http.js";
import { ACTION, EDIT_VIEW } from "./slack-buttons.js";
import { slackErrorCode } from "./slack-errors.js";
import { onCancelButton, onEditButton, onEditSubmitted, onImageButton } from "./slack-follow-ups.js";
import { type GestureDeps, onMessageEvent, onSlashCommand, PLATFORM } from "./slack-gestures.js";
import { slackLogger } from "./slack-logger.js";
import {
  connectSlackWeb,
  SlackStartError,
  type SlackWebSettings,
  type SlackWebSetup,
  slackRestorer,
} from "./slack-restorer.js";
import { escapeSlackText } from "./slack-text.js";
import {
  type BlockAction,
  blockActionSchema,
  eventEnvelopeSchema,
  messageEventSchema,
  slashCommandSchema,
  viewSubmissionSchema,
} from "./slack-wire.js";

export { SLACK_DEFAULTS, SlackStartError } from "./slack-restorer.js";

/** The Slack app's credentials and names (the composition root maps the app config onto it). */
export interface SlackSettings extends SlackWebSettings {
  /** HTTP mode (Events API); Socket Mode when `appToken` is set. */
  signingSecret: string | undefined;
  appToken: string | undefined;
  /** The slash command, e.g. `/seedream`. */
  command: string;
}

export interface StartSlackOptions extends SlackWebSetup {
  slack: SlackSettings;
  /** HTTP mode: Bolt's `/slack/events` and `routes`; Socket Mode: `routes` only. */
  port: number;
  handler: Handler;
  store: BotStore;
  /** The operator's endpoints (`/readyz`, `/metrics`…), served on `port` beside Slack's. */
  routes: readonly HttpRoute[];
  /** Interface to listen on; all interfaces when absent. */
  host?: string;
}

export interface SlackHandle extends PlatformHandle {
  mode: "http" | "socket";
  /** The port actually bound (useful with `port: 0`). */
  port: number;
  botUserId: string;
}

/**
 * Starts the Slack side: checks the token (auth.test), then serves slash commands and mentions
 * over HTTP (signing secret) or Socket Mode (app token, preferred when both are set).
 */
export async function startSlack(options: StartSlackOptions): Promise<SlackHandle> {
  const { slack, logger } = options;
  const kit = await connectSlackWeb(options);
  const { identity, apiUrl, fetch } = kit;

  const deps: GestureDeps = {
    handler: options.handler,
    store: options.store,
    logger,
    botUserId: identity.user_id,
    teamId: identity.team_id,
    files: kit.files,
    thread: kit.thread,
  };
  const settle = (task: Promise<void>) =>
    void task.catch((error: unknown) => logger.error("slack gesture failed", { error }));

  const socketMode = slack.appToken !== undefined;
  const common = {
    token: slack.botToken,
    botId: identity.bot_id ?? identity.user_id,
    botUserId: identity.user_id,
    logger: slackLogger(logger),
    clientOptions: {
      slackApiUrl: apiUrl,
      fetch: fetch as webApi.FetchFunction,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      allowAbsoluteUrls: false,
    },
  };
  let connected = false;
  let receiver: SocketModeReceiver | undefined;
  let app: App;
  if (socketMode) {
    receiver = new SocketModeReceiver({
      appToken: slack.appToken ?? "",
      logger: common.logger,
      // The only way Bolt passes options to the Socket Mode client's WebClient (apps.connections.open).
      installerOptions: { clientOptions: { slackApiUrl: apiUrl, fetch: fetch as webApi.FetchFunction } },
    });
    receiver.client.on("connected", () => {
      connected = true;
    });
    for (const state of ["disconnected", "reconnecting"]) {
      receiver.client.on(state, () => {
        connected = false;
      });
    }
    app = new App({ ...common, receiver, socketMode: true, appToken: slack.appToken });
  } else {
    app = new App({
      ...common,
      signingSecret: slack.signingSecret ?? "",
      customRoutes: options.routes.map((route) => ({
        path: route.path,
        method: ["GET"],
        handler: route.handle,
      })),
    });
  }

  // Any other command routed here: answered (an unanswered command shows the user a timeout).
  app.command(new RegExp(`^(?!${slack.command.replace(/[^\w/]/g, "\\$&")}$)`), async ({ ack, command }) => {
    await ack({
      response_type: "ephemeral",
      text: escapeSlackText(
        `This bot answers ${slack.command}. To use ${command.command} instead, set SLACK_COMMAND=${command.command} and restart it.`,
      ),
    });
  });
  app.command(slack.command, async ({ ack, command, respond }) => {
    // Acknowledged before anything else: Slack shows an error after 3 s without it.
    await ack();
    const parsed = slashCommandSchema.safeParse(command);
    if (!parsed.success) {
      logger.warn("ignored a slash command payload without the expected fields", { error: parsed.error });
      return;
    }
    const answer = async (text: string) => {
      await respond({ response_type: "ephemeral", text });
    };
    settle(onSlashCommand(deps, parsed.data, answer));
  });
  const onEvent = async ({ event, body }: { event: unknown; body: unknown }) => {
    const parsed = messageEventSchema.safeParse(event);
    if (!parsed.success) {
      logger.debug("ignored an event without the expected fields", { error: parsed.error });
      return;
    }
    const envelope = eventEnvelopeSchema.safeParse(body);
    const eventId = envelope.success ? envelope.data.event_id : undefined;
    settle(onMessageEvent(deps, parsed.data, eventId));
  };
  // Follow-up buttons and the Edit… form: acked at once (Slack's 3 s), the work after the ack.
  const onPress =
    (work: (body: BlockAction) => Promise<void>) =>
    async ({ ack, body }: { ack: () => Promise<void>; body: unknown }) => {
      await ack();
      const parsed = blockActionSchema.safeParse(body);
      if (!parsed.success) {
        logger.warn("ignored a button press without the expected fields", { error: parsed.error });
        return;
      }
      settle(work(parsed.data));
    };
  app.action(
    ACTION.again,
    onPress((body) => onImageButton(deps, body, "again")),
  );
  app.action(
    ACTION.vary,
    onPress((body) => onImageButton(deps, body, "vary")),
  );
  app.action(
    ACTION.edit,
    onPress((body) => onEditButton(deps, body)),
  );
  app.action(
    ACTION.cancel,
    onPress((body) => onCancelButton(deps, body)),
  );
  app.view(EDIT_VIEW.callbackId, async ({ ack, body }) => {
    await ack();
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      logger.warn("ignored a form submission without the expected fields", { error: parsed.error });
      return;
    }
    settle(onEditSubmitted(deps, parsed.data));
  });
  app.event("app_mention", onEvent);
  app.event("message", onEvent);
  app.error(async (error) => {
    logger.error("slack listener error", { error });
  });

  let server: Server;
  try {
    if (socketMode) {
      await app.start();
      connected = true;
      server = await startOpsServer(options.port, options.routes, options.host).catch(async (error) => {
        await app.stop().catch(() => {});
        throw error;
      });
    } else {
      server = (await app.start(
        options.host === undefined ? options.port : { port: options.port, host: options.host },
      )) as Server;
      connected = true;
    }
  } catch (error) {
    throw startError(error, socketMode, options.port);
  }
  const port = (server.address() as AddressInfo).port;
  logger.info(`slack connected as ${identity.user ?? identity.user_id}`, {
    mode: socketMode ? "socket" : "http",
    port,
  });

  let stopped = false;
  return {
    name: PLATFORM,
    mode: socketMode ? "socket" : "http",
    port,
    botUserId: identity.user_id,
    restorer: slackRestorer(kit),
    healthy: () => connected && !stopped,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closing = app.stop().catch((error: unknown) => logger.warn("stopping bolt failed", { error }));
      if (!socketMode) server.closeIdleConnections();
      // Runs still going are cancelled (their users see "Cancelled.") so the store can close.
      await options.handler.shutdown(PLATFORM);
      await closing;
      if (socketMode) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function startError(error: unknown, socketMode: boolean, port: number): SlackStartError {
  const code = (error as { code?: unknown }).code;
  if (code === "EADDRINUSE" || code === "EACCES") {
    return new SlackStartError("slack_port", `Cannot listen on PORT=${port} (${code}): pick a free port.`, {
      cause: error,
    });
  }
  const slackCode = slackErrorCode(error);
  if (socketMode) {
    return new SlackStartError(
      "slack_socket",
      slackCode
        ? `Slack refused SLACK_APP_TOKEN (${slackCode}): create an app-level token (xapp-…) with connections:write and enable Socket Mode.`
        : "Could not open the Slack Socket Mode connection; check the network and SLACK_APP_TOKEN.",
      { cause: error },
    );
  }
  return new SlackStartError("slack_start", `Could not start the Slack HTTP endpoint on PORT=${port}.`, {
    cause: error,
  });
}
