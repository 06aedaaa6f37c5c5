import { z } from "zod";
import { type Price, parsePrice } from "./seedream/prices.js";

/**
 * All configuration, parsed once at start-up. Every default lives here. A bad or missing
 * variable becomes one line that names it and says how to fix it (`ConfigError`).
 */

const PROVIDERS = ["ark", "byteplus", "dmxapi", "modelverse", "demo"] as const;

/**
 * BOT_ROLE: what one process does. `gateway` holds the platform connections and enqueues runs,
 * `worker` takes runs from the queue and posts through the platforms' Web/REST APIs, `all` is both.
 */
export const ROLES = ["all", "gateway", "worker"] as const;
export type BotRole = (typeof ROLES)[number];

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", ""], { message: "must be true or false" })
    .optional()
    .transform((value) =>
      value === undefined || value === "" ? fallback : value === "true" || value === "1" || value === "yes",
    );

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const url = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === "") return undefined;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("scheme");
      return value.replace(/\/+$/, "");
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an http(s) URL, e.g. https://example.com/api" });
      return z.NEVER;
    }
  });

/** A comma list (`,` or the Chinese `，`), items trimmed, empty items dropped. */
const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(/[,，]/)
      .map((item) => item.trim())
      .filter((item) => item !== ""),
  );

const timeZone = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === "") return "UTC";
    try {
      return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({
        code: "custom",
        message: "must be an IANA time zone such as UTC, Europe/Berlin or Asia/Shanghai",
      });
      return z.NEVER;
    }
  });

const price = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === "") return undefined;
    const parsed = parsePrice(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: "custom", message: "must be an amount and a currency, e.g. 0.04 USD" });
      return z.NEVER;
    }
    return parsed;
  });

const adminIds = list.transform((items, ctx) => {
  for (const item of items) {
    if (!/^[a-z]+:[\w.-]+$/.test(item)) {
      ctx.addIssue({
        code: "custom",
        message: `must list platform:id entries such as slack:U123,discord:456 (got "${item}")`,
      });
      return z.NEVER;
    }
  }
  return items;
});

/** `0,1`, `0-3` or a mix (`0,2-3`): sorted, without repeats; empty means every shard. */
const shardIds = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const ids = new Set<number>();
    for (const item of (value ?? "").split(/[,，]/).map((part) => part.trim())) {
      if (item === "") continue;
      const range = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(item);
      const from = Number(range?.[1]);
      const to = Number(range?.[2] ?? range?.[1]);
      if (!range || from > to || to > 65_535) {
        ctx.addIssue({ code: "custom", message: `must list shard ids such as 0,1 or 0-3 (got "${item}")` });
        return z.NEVER;
      }
      for (let id = from; id <= to; id++) ids.add(id);
    }
    return [...ids].sort((a, b) => a - b);
  });

export const envSchema = z
  .object({
    SEEDREAM_PROVIDER: z
      .enum(PROVIDERS, { message: `must be one of ${PROVIDERS.join(", ")}` })
      .default("ark"),
    SEEDREAM_API_KEY: optionalString,
    SEEDREAM_BASE_URL: url,
    SEEDREAM_MODEL: optionalString,
    SEEDREAM_HEADERS_TIMEOUT_MS: int(120_000, 90_000, 600_000),
    SEEDREAM_IDLE_TIMEOUT_MS: int(120_000, 5_000, 600_000),
    SEEDREAM_MAX_RETRIES: int(2, 0, 6),
    SEEDREAM_AUTH_SCHEME: z
      .enum(["bearer", "raw", ""], { message: "must be bearer or raw" })
      .optional()
      .transform((value) => (value === "" ? undefined : value)),
    SEEDREAM_PARALLEL_REQUESTS: int(4, 1, 15),
    SEEDREAM_IMAGES_PER_MINUTE: int(0, 0, 1_000_000),
    SEEDREAM_IMAGE_HOSTS: z
      .string()
      .optional()
      .transform((value) =>
        (value ?? "")
          .split(",")
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ""),
      ),
    SEEDREAM_PRICE_PER_IMAGE: price,
    SEEDREAM_DEMO_DELAY_MS: int(2_500, 0, 60_000),

    DEFAULT_SIZE: optionalString,
    DEFAULT_WATERMARK: bool(false),
    MAX_IMAGES_PER_REQUEST: int(15, 1, 15),
    MAX_PROMPT_CHARS: int(2_000, 1, 100_000),
    MAX_CONCURRENT_RUNS: int(4, 1, 100),
    MAX_CONCURRENT_RUNS_PER_USER: int(1, 1, 20),
    MAX_QUEUE_LENGTH: int(20, 0, 1000),
    MAX_QUEUED_PER_USER: int(3, 0, 1000),
    // Above the API's 10 MB so big phone photos and screenshots still work (they are re-encoded under
    // it), below what nobody sends by accident: a 20 MB file is refused while it streams.
    MAX_REFERENCE_BYTES: int(15 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    REFERENCE_FETCH_TIMEOUT_MS: int(30_000, 1_000, 300_000),

    QUOTA_USER_DAILY_IMAGES: int(0, 0, 1_000_000),
    QUOTA_TEAM_DAILY_IMAGES: int(0, 0, 10_000_000),
    QUOTA_TIMEZONE: timeZone,
    ADMIN_USER_IDS: adminIds,
    ALLOWED_CHANNELS: list,
    BLOCKED_TERMS: list,

    BOT_ROLE: z
      .enum([...ROLES, ""], { message: `must be one of ${ROLES.join(", ")}` })
      .optional()
      .transform((value): BotRole => (value === undefined || value === "" ? "all" : value)),
    // Each run mostly waits on Seedream's stream; the bound keeps one process's memory (a few
    // decoded images per run) and Discord's 50 requests/s within what one process handles.
    WORKER_CONCURRENCY: int(4, 1, 100),

    STORE_URL: z.string().trim().default("sqlite://./data/seedream-bot.sqlite"),
    STORE_TTL_DAYS: int(30, 1, 3650),

    // A container platform's default grace: what a deploy gives running runs to finish.
    SHUTDOWN_GRACE_MS: int(30_000, 0, 3_600_000),

    PORT: int(3000, 1, 65535),
    HOST: z
      .string()
      .trim()
      .regex(/^$|^[\w.:-]+$/, "must be an interface address such as 0.0.0.0, 127.0.0.1 or ::")
      .optional()
      .transform((value) => (value === undefined || value === "" ? "0.0.0.0" : value)),
    LOG_LEVEL: z
      .enum(["debug", "info", "warn", "error"], { message: "must be debug, info, warn or error" })
      .default("info"),
    LOG_FORMAT: z
      .enum(["json", "pretty", ""], { message: "must be json or pretty" })
      .optional()
      .transform((value) => (value === "" ? undefined : value)),

    SLACK_BOT_TOKEN: optionalString,
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString,
    SLACK_API_URL: url,
    SLACK_COMMAND: z
      .string()
      .trim()
      .regex(/^\/[\w-]{1,31}$/, "must be a slash command like /seedream")
      .default("/seedream"),

    DISCORD_TOKEN: optionalString,
    DISCORD_API_URL: url,
    DISCORD_MESSAGE_CONTENT: bool(false),
    DISCORD_GUILD_ID: optionalString,
    DISCORD_SHARD_COUNT: int(1, 1, 65_536),
    DISCORD_SHARD_IDS: shardIds,
  })
  .superRefine((env, ctx) => {
    const outside = env.DISCORD_SHARD_IDS.filter((id) => id >= env.DISCORD_SHARD_COUNT);
    if (outside.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["DISCORD_SHARD_IDS"],
        message: `must be below DISCORD_SHARD_COUNT (${env.DISCORD_SHARD_COUNT}): ids run from 0 to ${env.DISCORD_SHARD_COUNT - 1} (got ${outside.join(",")})`,
      });
    }
    if (env.SEEDREAM_PROVIDER !== "demo" && env.SEEDREAM_API_KEY === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["SEEDREAM_API_KEY"],
        message:
          "is required: set it to your Seedream API key, or SEEDREAM_PROVIDER=demo to try the bot without one",
      });
    }
    const storeProblem = storeUrlProblem(env.STORE_URL);
    if (storeProblem !== undefined) {
      ctx.addIssue({ code: "custom", path: ["STORE_URL"], message: storeProblem });
    } else if (env.BOT_ROLE !== "all" && !isRedisStore(env.STORE_URL)) {
      ctx.addIssue({
        code: "custom",
        path: ["BOT_ROLE"],
        message: `${env.BOT_ROLE} needs a Redis STORE_URL (redis://HOST:PORT[/DB], rediss:// for TLS): the run queue gateways and workers share lives there. With a sqlite or memory store, use BOT_ROLE=all (one process).`,
      });
    }
    if (env.BOT_ROLE === "worker" && env.SLACK_BOT_TOKEN === undefined && env.DISCORD_TOKEN === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["BOT_ROLE"],
        message:
          "worker needs the platform tokens of the gateways it works for (SLACK_BOT_TOKEN, DISCORD_TOKEN): it posts the results through their Web/REST APIs.",
      });
    }
  });

const isRedisStore = (url: string) => url.startsWith("redis://") || url.startsWith("rediss://");

/** Why a STORE_URL cannot work, or undefined. Never quotes the URL (it may hold a password). */
function storeUrlProblem(value: string): string | undefined {
  if (value === "memory://" || value.startsWith("sqlite://")) return undefined;
  const expected =
    "must be memory://, sqlite://PATH (e.g. sqlite://./data/seedream-bot.sqlite) or redis://HOST:PORT[/DB] (rediss:// for TLS)";
  if (!value.startsWith("redis://") && !value.startsWith("rediss://")) return expected;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return `${expected}: it is not a valid URL`;
  }
  if (parsed.hostname === "") return `${expected}: the host is missing`;
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,5}$/.test(db)) return `${expected}: the database after the host must be a number`;
  return undefined;
}

export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** What the rest of the program reads: grouped, typed, defaults applied. */
export interface Config {
  seedream: {
    provider: Env["SEEDREAM_PROVIDER"];
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string | undefined;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    maxRetries: number;
    /** SEEDREAM_AUTH_SCHEME: overrides the provider profile's auth style. */
    authScheme: "bearer" | "raw" | undefined;
    /** SEEDREAM_PARALLEL_REQUESTS: single-image requests at once for `--n` on models without groups. */
    parallelRequests: number;
    /** Demo provider: time to the first placeholder; later ones take 48–100 % of it. */
    demoDelayMs: number;
    /** SEEDREAM_IMAGES_PER_MINUTE: the account's image budget per minute; 0 = off. */
    imagesPerMinute: number;
    /** SEEDREAM_IMAGE_HOSTS: more hosts `response_format: url` images may come from. */
    imageHosts: string[];
  };
  defaults: { size: string | undefined; watermark: boolean; maxImages: number; maxPromptChars: number };
  limits: {
    maxConcurrentRuns: number;
    maxConcurrentRunsPerUser: number;
    maxQueueLength: number;
    maxQueuedPerUser: number;
    maxReferenceBytes: number;
    referenceFetchTimeoutMs: number;
  };
  store: { url: string; ttlMs: number };
  /** BOT_ROLE: platform connections (`gateway`), runs from the queue (`worker`), or both (`all`). */
  role: BotRole;
  /** WORKER_CONCURRENCY: runs this process works on at once when it takes runs from the queue. */
  workerConcurrency: number;
  /** How long SIGTERM/SIGINT lets running runs finish before they are interrupted. */
  shutdownGraceMs: number;
  cost: {
    /** Images per user per day; 0 = no limit. */
    userDailyImages: number;
    /** Images per team (Slack workspace, Discord server) per day; 0 = no limit. */
    teamDailyImages: number;
    /** IANA zone whose midnight starts a day. */
    timeZone: string;
    /** SEEDREAM_PRICE_PER_IMAGE: replaces the price table when set. */
    pricePerImage: Price | undefined;
    /** `platform:userId` entries who see team totals. */
    adminUserIds: string[];
  };
  policy: {
    /** Channel ids where images may be generated; empty = everywhere. */
    allowedChannels: string[];
    blockedTerms: string[];
  };
  port: number;
  /** Interface PORT is bound on. */
  host: string;
  logLevel: Env["LOG_LEVEL"];
  /** Undefined: `pretty` on a terminal, `json` otherwise (decided by the entry point). */
  logFormat: Env["LOG_FORMAT"];
  slack:
    | {
        botToken: string;
        signingSecret: string | undefined;
        appToken: string | undefined;
        apiUrl: string | undefined;
        command: string;
      }
    | undefined;
  discord:
    | {
        token: string;
        apiUrl: string | undefined;
        messageContent: boolean;
        guildId: string | undefined;
        /** Shards of the whole bot, and the ones this process connects (all of them by default). */
        shardCount: number;
        shardIds: readonly number[];
      }
    | undefined;
}

export function parseConfig(source: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "configuration");
      return `${name} ${issue.message.replace(/^Invalid input: /, "")}`;
    });
    throw new ConfigError(lines.join("\n"));
  }
  const env = result.data;
  // A worker only posts through the Web API: it has no receiver to verify or connect.
  if (env.BOT_ROLE !== "worker" && env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    throw new ConfigError(
      "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is required with SLACK_BOT_TOKEN: set the signing secret for HTTP mode, or an xapp- token for Socket Mode",
    );
  }
  return {
    seedream: {
      provider: env.SEEDREAM_PROVIDER,
      apiKey: env.SEEDREAM_API_KEY,
      baseUrl: env.SEEDREAM_BASE_URL,
      model: env.SEEDREAM_MODEL,
      headersTimeoutMs: env.SEEDREAM_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: env.SEEDREAM_IDLE_TIMEOUT_MS,
      maxRetries: env.SEEDREAM_MAX_RETRIES,
      authScheme: env.SEEDREAM_AUTH_SCHEME,
      parallelRequests: env.SEEDREAM_PARALLEL_REQUESTS,
      demoDelayMs: env.SEEDREAM_DEMO_DELAY_MS,
      imagesPerMinute: env.SEEDREAM_IMAGES_PER_MINUTE,
      imageHosts: env.SEEDREAM_IMAGE_HOSTS,
    },
    defaults: {
      size: env.DEFAULT_SIZE,
      watermark: env.DEFAULT_WATERMARK,
      maxImages: env.MAX_IMAGES_PER_REQUEST,
      maxPromptChars: env.MAX_PROMPT_CHARS,
    },
    limits: {
      maxConcurrentRuns: env.MAX_CONCURRENT_RUNS,
      maxConcurrentRunsPerUser: env.MAX_CONCURRENT_RUNS_PER_USER,
      maxQueueLength: env.MAX_QUEUE_LENGTH,
      maxQueuedPerUser: env.MAX_QUEUED_PER_USER,
      maxReferenceBytes: env.MAX_REFERENCE_BYTES,
      referenceFetchTimeoutMs: env.REFERENCE_FETCH_TIMEOUT_MS,
    },
    store: { url: env.STORE_URL, ttlMs: env.STORE_TTL_DAYS * 24 * 60 * 60 * 1000 },
    role: env.BOT_ROLE,
    workerConcurrency: env.WORKER_CONCURRENCY,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    cost: {
      userDailyImages: env.QUOTA_USER_DAILY_IMAGES,
      teamDailyImages: env.QUOTA_TEAM_DAILY_IMAGES,
      timeZone: env.QUOTA_TIMEZONE,
      pricePerImage: env.SEEDREAM_PRICE_PER_IMAGE,
      adminUserIds: env.ADMIN_USER_IDS,
    },
    policy: { allowedChannels: env.ALLOWED_CHANNELS, blockedTerms: env.BLOCKED_TERMS },
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    slack: env.SLACK_BOT_TOKEN
      ? {
          botToken: env.SLACK_BOT_TOKEN,
          signingSecret: env.SLACK_SIGNING_SECRET,
          appToken: env.SLACK_APP_TOKEN,
          apiUrl: env.SLACK_API_URL,
          command: env.SLACK_COMMAND,
        }
      : undefined,
    discord: env.DISCORD_TOKEN
      ? {
          token: env.DISCORD_TOKEN,
          apiUrl: env.DISCORD_API_URL,
          messageContent: env.DISCORD_MESSAGE_CONTENT,
          guildId: env.DISCORD_GUILD_ID,
          shardCount: env.DISCORD_SHARD_COUNT,
          shardIds:
            env.DISCORD_SHARD_IDS.length > 0
              ? env.DISCORD_SHARD_IDS
              : Array.from({ length: env.DISCORD_SHARD_COUNT }, (_, id) => id),
        }
      : undefined,
  };
}
