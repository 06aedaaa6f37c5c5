import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { main } from "../../src/main.js";
import { FakeDiscord } from "../fakes/discord.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { type BotProcess, spawnBot } from "../helpers/child-process.js";
import { describeRedis, freePort, useRedis } from "../helpers/redis-server.js";

/**
 * SIGTERM on a worker (BOT_ROLE=worker), as a deploy sends it: the run it is making gets
 * SHUTDOWN_GRACE_MS, then goes back to the queue; the process exits 0 within the grace plus 5 s;
 * another worker continues the run in the same Discord thread. The gateway is untouched.
 */

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const SEEDREAM_KEY = "sk-worker-drain-0123456789";
const GRACE_MS = 300;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describeRedis("a worker's SIGTERM", () => {
  const redis = useRedis();
  let discord: FakeDiscord;
  let seedream: FakeSeedream;
  beforeAll(async () => {
    [discord, seedream] = await Promise.all([FakeDiscord.start(), startFakeSeedream()]);
  });
  afterAll(async () => {
    seedream?.releaseAll();
    await Promise.allSettled([discord?.close(), seedream?.close()]);
  });

  const env = async (role: string): Promise<Record<string, string>> => ({
    BOT_ROLE: role,
    STORE_URL: redis.url(),
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    SEEDREAM_API_KEY: SEEDREAM_KEY,
    SEEDREAM_BASE_URL: seedream.url,
    SEEDREAM_MAX_RETRIES: "0",
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    LOG_FORMAT: "json",
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_GUILD_ID: discord.guild.id,
  });

  it("hands its running run back within the grace and exits 0; another worker finishes it in the same thread", async () => {
    const gateway = await main(await env("gateway"), { writeLog: () => {} });
    cleanups.push(() => gateway.stop());
    const first: BotProcess = spawnBot(await env("worker"));
    cleanups.push(() => first.kill());
    await first.ready();

    seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const sent = await discord.sendMessageCreate({
      content: `${discord.mention(discord.bot)} two cranes --n 2`,
    });
    const status = await discord.messages.waitFor((m) => m.replyTo === sent.id);
    await discord.messages.waitFor((m) => m.replyTo === sent.id && m.content === "1/2");
    await seedream.reached(1);

    first.signal("SIGTERM");
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterSignalMs).toBeLessThan(GRACE_MS + 5_000);

    seedream.setScenario({});
    const second = await main(await env("worker"), { writeLog: () => {} });
    cleanups.push(() => second.stop());
    const last = await discord.messages.waitFor((m) => m.replyTo === sent.id && m.content === "2/2", {
      timeoutMs: 30_000,
    });
    expect(last.uploads).toHaveLength(1);
    await discord.edits.waitFor((e) => e.messageId === status.messageId && /^Done: 2 of 2/.test(e.content), {
      timeoutMs: 10_000,
    });
    // Image 1 was not posted again, and the thread was told once what happened.
    expect(discord.messages.all.filter((m) => m.replyTo === sent.id).map((m) => m.content)).toEqual([
      status.content,
      "1/2",
      "The bot restarted while making your images: 1 of 2 were delivered. Making the last one now.",
      "2/2",
    ]);
    // Only the gateway ever identified.
    expect(discord.gateway.identifies.count).toBe(1);
  });
});
