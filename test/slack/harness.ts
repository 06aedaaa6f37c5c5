import { type SlackHandle, type StartSlackOptions, startSlack } from "../../adapters/slack/index.js";
import { type BotRuntime, createRuntime, type RuntimeOptions } from "../../src/app.js";
import { type Config, parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { opsRoutes } from "../../src/ops/http.js";
import { checkReadiness } from "../../src/ops/readiness.js";
import { createSeedreamClient } from "../../src/seedream/client.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { mention, SlackEventSender } from "../fakes/slack-events.js";
import { RecordingLog } from "../helpers/recording-log.js";

/**
 * The Slack adapter wired as in production, on fakes: a real Bolt app on 127.0.0.1:0 receiving
 * signed requests, its WebClient talking to the fake Slack Web API, the real Seedream client
 * talking to the fake Seedream server, a memory store. Status edits are throttled to one a
 * minute so only the first status and the summary (flushed when a run ends) are ever sent.
 */

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const SEEDREAM_KEY = "sk-slack-test-secret-0123456789";

export interface SlackHarness {
  api: FakeSlackApi;
  seedream: FakeSeedream;
  sender: SlackEventSender;
  slack: SlackHandle;
  runtime: BotRuntime;
  config: Config;
  log: RecordingLog;
  appUrl: string;
  /** `<@BOT> text`, as Slack writes a mention of the bot. */
  mentionBot(text: string): string;
  close(): Promise<void>;
}

export async function startSlackHarness(
  env: Record<string, string> = {},
  overrides: Partial<StartSlackOptions> = {},
  runtimeOptions: Pick<RuntimeOptions, "clock" | "statusTimers"> = {},
  /** Fakes kept from an earlier harness (a bot restarted against the same Slack); not closed by this one. */
  reuse?: { api: FakeSlackApi; seedream: FakeSeedream },
): Promise<SlackHarness> {
  const api = reuse?.api ?? (await FakeSlackApi.start());
  const seedream = reuse?.seedream ?? (await startFakeSeedream());
  const config = parseConfig({
    SEEDREAM_API_KEY: SEEDREAM_KEY,
    SEEDREAM_BASE_URL: seedream.url,
    SEEDREAM_MAX_RETRIES: "0",
    STORE_URL: "memory://",
    SLACK_BOT_TOKEN: api.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: api.apiUrl,
    ...env,
  });
  const log = new RecordingLog();
  const logger = createLogger({
    format: "pretty",
    level: "debug",
    secrets: [SEEDREAM_KEY, api.botToken, SIGNING_SECRET],
    write: log.write,
  });
  const generator = createSeedreamClient({
    provider: "ark",
    apiKey: SEEDREAM_KEY,
    baseUrl: seedream.url,
    maxRetries: 0,
  });
  const runtime = await createRuntime(config, { ...runtimeOptions, generator, logger });
  let handle: SlackHandle | undefined;
  const slackConfig = config.slack;
  if (!slackConfig) throw new Error("the harness config has no Slack section");
  const slack = await startSlack({
    slack: slackConfig,
    port: 0,
    host: "127.0.0.1",
    handler: runtime.handler,
    store: runtime.store,
    logger,
    routes: opsRoutes({
      readiness: () =>
        checkReadiness({
          configured: ["slack"],
          started: () => (handle ? [handle] : []),
          pingStore: () => runtime.store.ping(),
        }),
    }),
    statusIntervalMs: 60_000,
    slackRetries: 0,
    ...overrides,
  });
  handle = slack;
  const appUrl = `http://127.0.0.1:${slack.port}`;
  const sender = new SlackEventSender({ appUrl, signingSecret: SIGNING_SECRET, api });
  return {
    api,
    seedream,
    sender,
    slack,
    runtime,
    config,
    log,
    appUrl,
    mentionBot: (text) => `${mention(api.botUserId)} ${text}`,
    async close() {
      seedream.releaseAll();
      await slack.stop();
      await runtime.close();
      if (!reuse) await Promise.allSettled([api.close(), seedream.close()]);
    },
  };
}
