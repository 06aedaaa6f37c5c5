import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type DiscordHandle, type StartDiscordOptions, startDiscord } from "../../adapters/discord/index.js";
import { type BotRuntime, createRuntime, type RuntimeOptions } from "../../src/app.js";
import { type Config, parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createSeedreamClient } from "../../src/seedream/client.js";
import { FakeDiscord, type FakeDiscordOptions, type PostedMessage } from "../fakes/discord.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { dataUriBytes } from "../helpers/data-uri.js";
import { RecordingLog } from "../helpers/recording-log.js";

/**
 * The Discord adapter wired as in production, on fakes: the real discord.js client logs in to
 * the fake Discord (REST + gateway + CDN on 127.0.0.1), the real Seedream client talks to the
 * fake Seedream server, and the store is `memory://`.
 */

export const SEEDREAM_KEY = "sk-discord-test-secret-0123456789";

export interface DiscordHarness {
  fake: FakeDiscord;
  seedream: FakeSeedream;
  discord: DiscordHandle;
  runtime: BotRuntime;
  config: Config;
  log: RecordingLog;
  /** `<@BOT> text`, as a Discord client writes a mention of the bot. */
  mentionBot(text: string): string;
  close(): Promise<void>;
}

export async function startDiscordHarness(
  options: {
    env?: Record<string, string>;
    fake?: FakeDiscordOptions;
    adapter?: Partial<StartDiscordOptions>;
    runtime?: Pick<RuntimeOptions, "clock" | "statusTimers">;
    /** Fakes kept from an earlier harness (a bot restarted against the same Discord); not closed by this one. */
    reuse?: { fake: FakeDiscord; seedream: FakeSeedream };
  } = {},
): Promise<DiscordHarness> {
  const fake = options.reuse?.fake ?? (await FakeDiscord.start(options.fake));
  const seedream = options.reuse?.seedream ?? (await startFakeSeedream());
  const config = parseConfig({
    SEEDREAM_API_KEY: SEEDREAM_KEY,
    SEEDREAM_BASE_URL: seedream.url,
    SEEDREAM_MAX_RETRIES: "0",
    STORE_URL: "memory://",
    DISCORD_TOKEN: fake.token,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_GUILD_ID: fake.guild.id,
    ...options.env,
  });
  const log = new RecordingLog();
  const logger = createLogger({
    format: "pretty",
    level: "debug",
    secrets: [SEEDREAM_KEY, fake.token],
    write: log.write,
  });
  const generator = createSeedreamClient({
    provider: "ark",
    apiKey: SEEDREAM_KEY,
    baseUrl: seedream.url,
    maxRetries: 0,
  });
  const runtime = await createRuntime(config, { ...options.runtime, generator, logger });
  if (!config.discord) throw new Error("the harness config has no Discord section");
  const discord = await startDiscord({
    discord: config.discord,
    handler: runtime.handler,
    store: runtime.store,
    logger,
    ...options.adapter,
  });
  return {
    fake,
    seedream,
    discord,
    runtime,
    config,
    log,
    mentionBot: (text) => `${fake.mention(fake.bot)} ${text}`,
    async close() {
      seedream.releaseAll();
      await discord.stop();
      await runtime.close();
      if (!options.reuse) await Promise.allSettled([fake.close(), seedream.close()]);
    },
  };
}

/**
 * One harness for a test file, handed to `assign` once it is up and closed after the file.
 * Before each test the fake Seedream is reset and the recorded output skipped, so each test
 * walks only the output it caused.
 */
export function useDiscordHarness(
  assign: (h: DiscordHarness) => void,
  options: Parameters<typeof startDiscordHarness>[0] = {},
): void {
  let h: DiscordHarness | undefined;
  beforeAll(async () => {
    h = await startDiscordHarness(options);
    assign(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    h?.seedream.reset();
    h?.fake.messages.skipToEnd();
    h?.fake.edits.skipToEnd();
  });
}

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** The bytes of each `data:` reference a Seedream request carried, in order. */
export function referenceBytes(body: Record<string, unknown> | undefined): Buffer[] {
  return ([] as unknown[]).concat(body?.image ?? []).map(dataUriBytes);
}

export function solidPng(background: string, width = 80, height = 60): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();
}

/** The single upload of an image message. */
export function uploadOf(message: PostedMessage): Buffer {
  const [upload] = message.uploads;
  if (!upload || message.uploads.length !== 1) {
    throw new Error(`expected one upload in ${message.messageId}, got ${message.uploads.length}`);
  }
  return upload.bytes;
}

export const NOBODY = { users: [], roles: [], everyone: false };
