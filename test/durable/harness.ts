import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeDiscord, type FakeDiscordOptions } from "../fakes/discord.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { SlackEventSender } from "../fakes/slack-events.js";
import type { MessageUpdate, PostedMessage, RecordedUpload } from "../fakes/slack-recorder.js";
import { type BotProcess, spawnBot } from "../helpers/child-process.js";
import { freePort } from "../helpers/redis-server.js";

/**
 * Real bot processes against the fakes, sharing one sqlite store in a temp dir, so a test can
 * SIGTERM or kill -9 a bot mid-run and start another on the same store, the way a deploy or a
 * crash and a restart happen. The fakes live in the test process and outlive every bot.
 */

export const SEEDREAM_KEY = "sk-durable-test-secret-0123456789";
export const SIGNING_SECRET = "durable-signing-secret-0123456789abcdef";

/** Long enough for a bot process to start and act on a loaded machine; only a guard for failing tests. */
export const WAIT = { timeoutMs: 45_000 };

/**
 * Each of these tests starts two or three bot processes (a few seconds each, far more when the
 * machine is busy): vitest's 30 s default is for in-process tests.
 */
export const DURABLE_TIMEOUTS = { testTimeout: 120_000, hookTimeout: 60_000 } as const;

export interface RunningBot {
  bot: BotProcess;
  port: number;
}

export interface BotFleet {
  seedream: FakeSeedream;
  /** The sqlite store the next bots share. */
  storeUrl: string;
  /** Points later bots at a new, empty store (one per test) and resets the fake Seedream. */
  freshStore(): void;
  /** Starts a bot on the shared store with the platform's env plus `env`; resolves once it runs. */
  start(env?: Record<string, string>): Promise<RunningBot>;
  close(): Promise<void>;
}

async function fleet(platformEnv: () => Record<string, string>, closeFakes: () => Promise<void>) {
  const seedream = await startFakeSeedream();
  const dir = mkdtempSync(join(tmpdir(), "seedream-durable-"));
  let stores = 0;
  const bots: BotProcess[] = [];
  const result: BotFleet = {
    seedream,
    storeUrl: `sqlite://${join(dir, "bot-0.sqlite")}`,
    freshStore() {
      result.storeUrl = `sqlite://${join(dir, `bot-${++stores}.sqlite`)}`;
      seedream.reset();
    },
    async start(env = {}) {
      const port = await freePort();
      const bot = spawnBot({
        SEEDREAM_API_KEY: SEEDREAM_KEY,
        SEEDREAM_BASE_URL: seedream.url,
        SEEDREAM_MAX_RETRIES: "0",
        STORE_URL: result.storeUrl,
        PORT: String(port),
        LOG_LEVEL: "debug",
        ...platformEnv(),
        ...env,
      });
      bots.push(bot);
      await bot.ready();
      return { bot, port };
    },
    async close() {
      seedream.releaseAll();
      await Promise.all(bots.map((bot) => bot.kill()));
      await Promise.allSettled([seedream.close(), closeFakes()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return result;
}

export interface SlackFleet extends BotFleet {
  api: FakeSlackApi;
  /** Signed deliveries to a bot started by `start`. */
  sender(bot: RunningBot): SlackEventSender;
  uploads(channel: string): RecordedUpload[];
  /** Upload titles ("1/3") in a channel, in order. */
  titles(channel: string): Array<string | undefined>;
  /** Messages the bots posted in a channel, in order. */
  botMessages(channel: string): PostedMessage[];
  updates(channel: string, ts: string): MessageUpdate[];
  /**
   * Image `n` is delivered and recorded: the status says so only after the store has it (an
   * image posted in the instant between the upload and that write would be posted again).
   */
  delivered(channel: string, n: number, total: number): Promise<unknown>;
  /** `max_images` of the fake Seedream's request `number`. */
  maxImages(number: number): number | undefined;
}

export async function startSlackFleet(): Promise<SlackFleet> {
  const api = await FakeSlackApi.start();
  const base = await fleet(
    () => ({
      SLACK_BOT_TOKEN: api.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: api.apiUrl,
    }),
    () => api.close(),
  );
  const { recorder } = api;
  return {
    ...base,
    api,
    sender: ({ port }) =>
      new SlackEventSender({ appUrl: `http://127.0.0.1:${port}`, signingSecret: SIGNING_SECRET, api }),
    uploads: (channel) => recorder.of("upload").filter((upload) => upload.channel === channel),
    titles: (channel) =>
      recorder
        .of("upload")
        .filter((upload) => upload.channel === channel)
        .map((upload) => upload.title),
    // Without the images' follow-up button messages ("2/4" and Again/Vary/Edit…).
    botMessages: (channel) =>
      recorder
        .of("message")
        .filter(
          (message) =>
            message.channel === channel && !JSON.stringify(message.blocks ?? []).includes("seedream_again"),
        ),
    updates: (channel, ts) =>
      recorder.of("update").filter((update) => update.channel === channel && update.ts === ts),
    delivered: (channel, n, total) =>
      recorder.waitFor("update", 1, { channel, text: new RegExp(`${n}/${total} done`) }, WAIT),
    maxImages: (number) =>
      (base.seedream.requests[number]?.body?.sequential_image_generation_options as { max_images?: number })
        ?.max_images,
  };
}

export interface DiscordFleet extends BotFleet {
  discord: FakeDiscord;
}

export async function startDiscordFleet(options: FakeDiscordOptions = {}): Promise<DiscordFleet> {
  const discord = await FakeDiscord.start(options);
  const base = await fleet(
    () => ({
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: discord.guild.id,
    }),
    () => discord.close(),
  );
  return { ...base, discord };
}
