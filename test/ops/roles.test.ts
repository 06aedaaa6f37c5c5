import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { StoreError } from "../../src/core/errors.js";
import { describeRole, main } from "../../src/main.js";
import { FakeDiscord } from "../fakes/discord.js";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { family, parsePrometheus } from "../helpers/prometheus.js";
import { RecordingLog } from "../helpers/recording-log.js";
import { describeRedis, freePort, useRedis } from "../helpers/redis-server.js";

/**
 * BOT_ROLE as an operator starts it: what each role connects to, what its start line says, what
 * /readyz checks. A worker holds no platform connection (no Identify, no Slack receiver) yet is
 * ready once the store answers and the platforms' APIs took its tokens.
 */

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
}

describe("start-up", () => {
  it("with Redis unreachable, every role stops with one StoreError line naming STORE_URL", async () => {
    const failures = await Promise.all(
      ["all", "gateway", "worker"].map(async (role) => {
        const redisPort = await freePort();
        const failure = await main(
          {
            SEEDREAM_PROVIDER: "demo",
            BOT_ROLE: role,
            STORE_URL: `redis://127.0.0.1:${redisPort}`,
            PORT: String(await freePort()),
            HOST: "127.0.0.1",
            DISCORD_TOKEN: "t",
          },
          { writeLog: () => {} },
        ).catch((error: unknown) => error);
        return { failure, redisPort };
      }),
    );
    for (const { failure, redisPort } of failures) {
      expect(failure).toBeInstanceOf(StoreError);
      const message = (failure as Error).message;
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toContain(`STORE_URL=redis://127.0.0.1:${redisPort}`);
    }
  }, 20_000);

  it("says the role in its start line, with the Discord shards a connecting role holds and a worker's concurrency", () => {
    const redis = { SEEDREAM_PROVIDER: "demo", STORE_URL: "redis://127.0.0.1:6379", DISCORD_TOKEN: "d" };
    const role = (env: Record<string, string>) => describeRole(parseConfig({ ...redis, ...env }));
    expect(describeRole(parseConfig({ SEEDREAM_PROVIDER: "demo" }))).toBe("all");
    expect(role({})).toBe("all (4 runs at once from the queue)");
    expect(role({ BOT_ROLE: "gateway", DISCORD_SHARD_COUNT: "4", DISCORD_SHARD_IDS: "2-3" })).toBe(
      "gateway (discord shards 2,3 of 4)",
    );
    expect(role({ BOT_ROLE: "worker", WORKER_CONCURRENCY: "8", DISCORD_SHARD_COUNT: "4" })).toBe(
      "worker (8 runs at once from the queue)",
    );
    expect(role({ DISCORD_SHARD_COUNT: "2", WORKER_CONCURRENCY: "2" })).toBe(
      "all (discord shards 0,1 of 2; 2 runs at once from the queue)",
    );
  });
});

describeRedis("roles on Redis", () => {
  const redis = useRedis();
  let discord: FakeDiscord;
  let slack: FakeSlackApi;
  beforeAll(async () => {
    [discord, slack] = await Promise.all([FakeDiscord.start(), FakeSlackApi.start()]);
  });
  afterAll(async () => {
    await Promise.allSettled([discord.close(), slack.close()]);
  });

  const env = async (role: string) => ({
    SEEDREAM_PROVIDER: "demo",
    BOT_ROLE: role,
    STORE_URL: redis.url(),
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    LOG_FORMAT: "json",
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_GUILD_ID: discord.guild.id,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
  });

  it("a worker connects to no gateway and no receiver, and is ready on the store and both APIs", async () => {
    const identifies = discord.gateway.identifies.count;
    const slackCalls = slack.calls.length;
    const log = new RecordingLog();
    // No SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN: a worker has nothing to receive events with.
    const vars = await env("worker");
    const bot = await main(vars, { writeLog: log.write });
    cleanups.push(() => bot.stop());
    const port = Number(vars.PORT);
    const ready = await get(port, "/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({
      ok: true,
      platforms: { slack: true, discord: true },
      store: true,
    });
    expect((await get(port, "/livez")).status).toBe(200);
    expect((await get(port, "/metrics")).text).toMatch(/^# HELP /m);
    // Slack's Events API endpoint is not there: the port only serves the operator's routes.
    expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: "POST" })).status).toBe(404);
    expect(discord.gateway.identifies.count).toBe(identifies);
    expect(slack.calls.slice(slackCalls).map((call) => call.method)).toEqual(["auth.test"]);
    expect(log.lines.filter((line) => /seedream-bot running as/.test(line))).toHaveLength(1);
    expect(log.lines.join("\n")).toMatch(/seedream-bot running as worker \(4 runs at once from the queue\)/);

    await bot.stop();
    cleanups.pop();
    // Stopped: nothing listens any more.
    await expect(get(port, "/livez")).rejects.toThrow();
  });

  it("a gateway holds the platform connections: Slack's receiver and the Discord gateway", async () => {
    const identifies = discord.gateway.identifies.count;
    const log = new RecordingLog();
    const vars = {
      ...(await env("gateway")),
      SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
    };
    const bot = await main(vars, { writeLog: log.write });
    cleanups.push(() => bot.stop());
    const ready = await get(Number(vars.PORT), "/readyz");
    expect(JSON.parse(ready.text)).toMatchObject({ ok: true, platforms: { slack: true, discord: true } });
    expect(discord.gateway.identifies.count - identifies).toBe(1);
    // Bolt's receiver answers on PORT (an unsigned request is refused, not missing).
    expect((await fetch(`http://127.0.0.1:${vars.PORT}/slack/events`, { method: "POST" })).status).toBe(401);
    expect(log.lines.join("\n")).toMatch(/seedream-bot running as gateway \(demo\)/);
  });
  it("a gateway hands a mention's run to the queue and a worker posts its image over REST", async () => {
    const identifies = discord.gateway.identifies.count;
    const discordOnly = async (role: string) => {
      const { SLACK_BOT_TOKEN: _token, SLACK_API_URL: _url, ...rest } = await env(role);
      return { ...rest, SEEDREAM_DEMO_DELAY_MS: "0" };
    };
    const gatewayVars = await discordOnly("gateway");
    const workerVars = { ...(await discordOnly("worker")), WORKER_CONCURRENCY: "2" };
    const gateway = await main(gatewayVars, { writeLog: () => {} });
    cleanups.push(() => gateway.stop());
    const worker = await main(workerVars, { writeLog: () => {} });
    cleanups.push(() => worker.stop());

    const sent = await discord.sendMessageCreate({
      content: `${discord.mention(discord.bot)} a paper crane`,
    });
    const image = await discord.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
    expect(image.content).toBe("1/1");
    const delivered = async (port: string) =>
      family(
        parsePrometheus((await get(Number(port), "/metrics")).text),
        "seedream_images_total",
      ).metrics.reduce((sum, sample) => sum + Number(sample.value ?? 0), 0);
    // The worker made and posted it; the gateway only queued it.
    await expect.poll(() => delivered(workerVars.PORT)).toBe(1);
    expect(await delivered(gatewayVars.PORT)).toBe(0);
    expect(discord.gateway.identifies.count - identifies).toBe(1);
  });
});
