import { createHash } from "node:crypto";
import sharp from "sharp";
import { type DiscordHandle, type StartDiscordOptions, startDiscord } from "../../adapters/discord/index.js";
import { type BotRuntime, createRuntime } from "../../src/app.js";
import { type Config, parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createSeedreamClient } from "../../src/seedream/client.js";
import { FakeDiscord, type FakeDiscordOptions, type PostedMessage } from "../fakes/discord.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";

/**
 * The Discord adapter wired as in production, on fakes: the real discord.js client logs in to
 * the fake Discord (REST + gateway + CDN on 127.0.0.1), the real Seedream client talks to the
 * fake Seedream server, and the store is `memory://`.
 */

export const SEEDREAM_KEY = "sk-discord-test-secret-0123456789";

export class RecordingLog {
  readonly lines: string[] = [];
  private waiters: Array<{ pattern: RegExp; count: number; resolve: () => void }> = [];

  write = (line: string): void => {
    this.lines.push(line);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.count(waiter.pattern) < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  /** Resolves once `count` lines match `pattern`. */
  waitFor(pattern: RegExp, count = 1): Promise<void> {
    if (this.count(pattern) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pattern, count, resolve }));
  }
}

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
  } = {},
): Promise<DiscordHarness> {
  const fake = await FakeDiscord.start(options.fake);
  const seedream = await startFakeSeedream();
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
  const logger = createLogger({ level: "debug", secrets: [SEEDREAM_KEY, fake.token], write: log.write });
  const generator = createSeedreamClient({
    provider: "ark",
    apiKey: SEEDREAM_KEY,
    baseUrl: seedream.url,
    maxRetries: 0,
  });
  const runtime = await createRuntime(config, { generator, logger });
  if (!config.discord) throw new Error("the harness config has no Discord section");
  const discord = await startDiscord({
    discord: config.discord,
    handler: runtime.handler,
    store: runtime.store,
    logger,
    defaults: config.defaults,
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
      await Promise.allSettled([fake.close(), seedream.close()]);
    },
  };
}

export const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** The bytes of each `data:` reference a Seedream request carried, in order. */
export function referenceBytes(body: Record<string, unknown> | undefined): Buffer[] {
  return ([] as unknown[]).concat(body?.image ?? []).map((uri) => {
    const match = /^data:[^;,]+;base64,(.*)$/s.exec(String(uri));
    if (!match) throw new Error(`not a base64 data URI: ${String(uri).slice(0, 40)}`);
    return Buffer.from(match[1] ?? "", "base64");
  });
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
