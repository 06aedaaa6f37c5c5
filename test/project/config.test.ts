import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, envSchema, parseConfig } from "../../src/config.js";

function failure(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected parseConfig to fail");
}

describe("config", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig({ SEEDREAM_API_KEY: "k" });
    expect(config.seedream.provider).toBe("ark");
    expect(config.seedream.headersTimeoutMs).toBeGreaterThanOrEqual(90_000);
    expect(config.store.url).toBe("sqlite://./data/seedream-bot.sqlite");
    expect(config.store.ttlMs).toBe(30 * 24 * 3600 * 1000);
    expect(config.port).toBe(3000);
    expect(config.host).toBe("0.0.0.0");
    expect(config.logFormat).toBeUndefined();
    expect(config.slack).toBeUndefined();
    expect(config.discord).toBeUndefined();
  });

  it("names a missing API key and how to fix it in one line", () => {
    const message = failure({});
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(/^SEEDREAM_API_KEY is required/);
    expect(message).toContain("SEEDREAM_PROVIDER=demo");
  });

  it("needs no key in demo mode", () => {
    expect(parseConfig({ SEEDREAM_PROVIDER: "demo" }).seedream.apiKey).toBeUndefined();
  });

  it.each([
    [{ PORT: "eighty" }, /^PORT must be a whole number from 1 to 65535$/],
    [{ SEEDREAM_PROVIDER: "openai" }, /^SEEDREAM_PROVIDER must be one of ark, byteplus/],
    [{ SEEDREAM_BASE_URL: "ftp://x" }, /^SEEDREAM_BASE_URL must be an http\(s\) URL/],
    [
      { STORE_URL: "postgres://localhost" },
      /^STORE_URL must be memory:\/\/, sqlite:\/\/PATH .* or redis:\/\/HOST:PORT/,
    ],
    [
      { STORE_URL: "redis://localhost:6379/cache" },
      /^STORE_URL .*: the database after the host must be a number$/,
    ],
    [
      { SEEDREAM_HEADERS_TIMEOUT_MS: "5000" },
      /^SEEDREAM_HEADERS_TIMEOUT_MS must be a whole number from 90000/,
    ],
    [{ SLACK_COMMAND: "seedream" }, /^SLACK_COMMAND must be a slash command like \/seedream$/],
    [{ DISCORD_MESSAGE_CONTENT: "maybe" }, /^DISCORD_MESSAGE_CONTENT must be true or false$/],
    [{ QUOTA_USER_DAILY_IMAGES: "-1" }, /^QUOTA_USER_DAILY_IMAGES must be a whole number from 0/],
    [{ QUOTA_TIMEZONE: "Mars/Olympus" }, /^QUOTA_TIMEZONE must be an IANA time zone/],
    [
      { ADMIN_USER_IDS: "U123" },
      /^ADMIN_USER_IDS must list platform:id entries such as slack:U123,discord:456/,
    ],
    [
      { SEEDREAM_PRICE_PER_IMAGE: "cheap" },
      /^SEEDREAM_PRICE_PER_IMAGE must be an amount and a currency, e.g. 0.04 USD$/,
    ],
    [{ LOG_FORMAT: "xml" }, /^LOG_FORMAT must be json or pretty$/],
    [{ HOST: "0.0.0.0; rm -rf" }, /^HOST must be an interface address/],
  ])("rejects %o with a message naming the variable", (env, pattern) => {
    expect(failure({ SEEDREAM_API_KEY: "k", ...env })).toMatch(pattern);
  });

  it("asks for a signing secret or app token alongside a Slack bot token", () => {
    expect(failure({ SEEDREAM_API_KEY: "k", SLACK_BOT_TOKEN: "xoxb-1" })).toMatch(
      /SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is required/,
    );
  });

  it("never echoes a secret value in its messages", () => {
    const message = failure({ SEEDREAM_API_KEY: "sk-very-secret", PORT: "sk-very-secret" });
    expect(message).not.toContain("sk-very-secret");
  });

  it("accepts redis:// and rediss:// store URLs, with a database and credentials", () => {
    for (const url of [
      "redis://127.0.0.1:6379",
      "redis://redis:6379/2",
      "rediss://user:pw@cache.example.com:6380/0",
    ]) {
      expect(parseConfig({ SEEDREAM_API_KEY: "k", STORE_URL: url }).store.url).toBe(url);
    }
  });

  it("never echoes a Redis password from STORE_URL", () => {
    const message = failure({ SEEDREAM_API_KEY: "k", STORE_URL: "redis://:hunter2secret@host/notanumber" });
    expect(message).toMatch(/^STORE_URL /);
    expect(message).not.toContain("hunter2secret");
  });

  it("enables platforms from their tokens", () => {
    const config = parseConfig({
      SEEDREAM_API_KEY: "k",
      SLACK_BOT_TOKEN: "xoxb-1",
      SLACK_SIGNING_SECRET: "s",
      DISCORD_TOKEN: "d",
      DISCORD_MESSAGE_CONTENT: "true",
    });
    expect(config.slack?.command).toBe("/seedream");
    expect(config.discord?.messageContent).toBe(true);
  });

  it("reads cost control and policy settings", () => {
    const config = parseConfig({
      SEEDREAM_API_KEY: "k",
      QUOTA_USER_DAILY_IMAGES: "3",
      QUOTA_TEAM_DAILY_IMAGES: "40",
      QUOTA_TIMEZONE: "Europe/Berlin",
      SEEDREAM_PRICE_PER_IMAGE: "0.04 usd",
      ADMIN_USER_IDS: "slack:U123, discord:456",
      ALLOWED_CHANNELS: "C1,,C2 ",
      BLOCKED_TERMS: "gore, blood bath，血腥",
    });
    expect(config.cost).toEqual({
      userDailyImages: 3,
      teamDailyImages: 40,
      timeZone: "Europe/Berlin",
      pricePerImage: { amount: 0.04, currency: "USD" },
      adminUserIds: ["slack:U123", "discord:456"],
    });
    expect(config.policy).toEqual({
      allowedChannels: ["C1", "C2"],
      blockedTerms: ["gore", "blood bath", "血腥"],
    });
  });

  it("turns quotas and policy off by default", () => {
    const config = parseConfig({ SEEDREAM_API_KEY: "k" });
    expect(config.cost).toMatchObject({ userDailyImages: 0, teamDailyImages: 0, timeZone: "UTC" });
    expect(config.cost.pricePerImage).toBeUndefined();
    expect(config.policy).toEqual({ allowedChannels: [], blockedTerms: [] });
  });

  it("takes Discord shards as a count and ids (0,1 or 0-3); all of them by default", () => {
    const discord = (env: Record<string, string>) =>
      parseConfig({ SEEDREAM_API_KEY: "k", DISCORD_TOKEN: "t", ...env }).discord;
    expect(discord({})).toMatchObject({ shardCount: 1, shardIds: [0] });
    expect(discord({ DISCORD_SHARD_COUNT: "4" })).toMatchObject({ shardCount: 4, shardIds: [0, 1, 2, 3] });
    expect(discord({ DISCORD_SHARD_COUNT: "4", DISCORD_SHARD_IDS: "0-3" })?.shardIds).toEqual([0, 1, 2, 3]);
    expect(discord({ DISCORD_SHARD_COUNT: "8", DISCORD_SHARD_IDS: " 5, 1 ,2-3,1" })?.shardIds).toEqual([
      1, 2, 3, 5,
    ]);
    expect(discord({ DISCORD_SHARD_COUNT: "2", DISCORD_SHARD_IDS: "1" })).toMatchObject({
      shardCount: 2,
      shardIds: [1],
    });
  });

  it("names a shard id outside DISCORD_SHARD_COUNT, or a malformed list, in one friendly line", () => {
    const base = { SEEDREAM_API_KEY: "k", DISCORD_TOKEN: "t" };
    expect(failure({ ...base, DISCORD_SHARD_COUNT: "2", DISCORD_SHARD_IDS: "0-3" })).toBe(
      "DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT (2): ids run from 0 to 1 (got 2,3)",
    );
    expect(failure({ ...base, DISCORD_SHARD_IDS: "1" })).toBe(
      "DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT (1): ids run from 0 to 0 (got 1)",
    );
    for (const ids of ["a", "3-1", "-1", "1.5", "0;1"]) {
      const message = failure({ ...base, DISCORD_SHARD_COUNT: "4", DISCORD_SHARD_IDS: ids });
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toMatch(/^DISCORD_SHARD_IDS must list shard ids such as 0,1 or 0-3 \(got "/);
    }
    expect(failure({ ...base, DISCORD_SHARD_COUNT: "0" })).toBe(
      "DISCORD_SHARD_COUNT must be a whole number from 1 to 65536",
    );
  });

  it("runs as one process (BOT_ROLE=all) working on 4 runs at once by default", () => {
    const config = parseConfig({ SEEDREAM_API_KEY: "k" });
    expect(config.role).toBe("all");
    expect(config.workerConcurrency).toBe(4);
    const split = parseConfig({
      SEEDREAM_API_KEY: "k",
      STORE_URL: "redis://127.0.0.1:6379",
      BOT_ROLE: "worker",
      WORKER_CONCURRENCY: "12",
      DISCORD_TOKEN: "d",
    });
    expect(split).toMatchObject({ role: "worker", workerConcurrency: 12 });
    expect(parseConfig({ SEEDREAM_API_KEY: "k", BOT_ROLE: "" }).role).toBe("all");
  });

  it("names BOT_ROLE and STORE_URL in one line when a gateway or worker has no Redis to share the queue on", () => {
    for (const role of ["gateway", "worker"]) {
      const stores: Record<string, string>[] = [
        {},
        { STORE_URL: "memory://" },
        { STORE_URL: "sqlite:///tmp/x.sqlite" },
      ];
      for (const store of stores) {
        const message = failure({ SEEDREAM_API_KEY: "k", DISCORD_TOKEN: "d", BOT_ROLE: role, ...store });
        expect(message.split("\n")).toHaveLength(1);
        expect(message).toBe(
          `BOT_ROLE ${role} needs a Redis STORE_URL (redis://HOST:PORT[/DB], rediss:// for TLS): the run queue gateways and workers share lives there. With a sqlite or memory store, use BOT_ROLE=all (one process).`,
        );
      }
    }
    expect(failure({ SEEDREAM_API_KEY: "k", BOT_ROLE: "both" })).toBe(
      "BOT_ROLE must be one of all, gateway, worker",
    );
  });

  it("lets a worker post through Slack's Web API with the bot token alone, but not with no platform token", () => {
    const redis = { SEEDREAM_API_KEY: "k", STORE_URL: "rediss://:pw@cache:6380/1" };
    const worker = parseConfig({ ...redis, BOT_ROLE: "worker", SLACK_BOT_TOKEN: "xoxb-1" });
    expect(worker.slack).toMatchObject({ botToken: "xoxb-1", signingSecret: undefined, appToken: undefined });
    // A gateway receives Slack's events, so it still needs the secret or app token.
    expect(failure({ ...redis, BOT_ROLE: "gateway", SLACK_BOT_TOKEN: "xoxb-1" })).toMatch(
      /^SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is required/,
    );
    expect(failure({ ...redis, BOT_ROLE: "worker" })).toBe(
      "BOT_ROLE worker needs the platform tokens of the gateways it works for (SLACK_BOT_TOKEN, DISCORD_TOKEN): it posts the results through their Web/REST APIs.",
    );
  });

  it.each(["0", "101", "four", "2.5"])("refuses WORKER_CONCURRENCY=%s, naming its bounds", (value) => {
    expect(failure({ SEEDREAM_API_KEY: "k", WORKER_CONCURRENCY: value })).toBe(
      "WORKER_CONCURRENCY must be a whole number from 1 to 100",
    );
  });

  it(".env.example documents exactly the variables the schema reads", () => {
    const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
    const documented = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(envSchema.shape).sort());
    for (const name of documented) {
      // Every variable carries a comment on the line(s) right above it.
      expect(example).toMatch(new RegExp(`#[^\\n]*\\n(#[^\\n]*\\n)*${name}=`));
    }
  });
});
