import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_PLATFORM } from "../../src/ops/readiness.js";
import { projectRoot } from "../helpers/child-process.js";
import { describeRedis, freePort, useRedis } from "../helpers/redis-server.js";

/** The bot as a program (`node src/main.ts`), started against a STORE_URL. */
function startBot(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      SEEDREAM_PROVIDER: "demo",
      ...env,
    },
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe("start-up with an unreachable Redis", () => {
  it("exits 1 with one line naming STORE_URL, the password hidden", async () => {
    const redisPort = await freePort();
    const bot = startBot({
      STORE_URL: `redis://:s3cret-pass@127.0.0.1:${redisPort}/1`,
      PORT: String(await freePort()),
    });
    expect(await bot.exited).toBe(1);
    const lines = bot.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^seedream-bot: Cannot open the store at STORE_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redisPort}/1: cannot connect to Redis`,
      ),
    );
    expect(bot.stderr()).not.toContain("s3cret-pass");
  }, 20_000);
});

describeRedis("start-up on Redis", () => {
  const redis = useRedis();
  let bot: ReturnType<typeof startBot>;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    bot = startBot({ STORE_URL: redis.url(), PORT: String(port), LOG_LEVEL: "info" });
  });
  afterAll(async () => {
    bot.child.kill("SIGTERM");
    await bot.exited;
  });

  it("runs with STORE_URL=redis:// and its readiness check finds the store answering", async () => {
    let response: Response | undefined;
    for (let tries = 0; tries < 100 && response === undefined; tries++) {
      response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (response === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Ready but for the chat platform, which this bot has none of.
    expect(response?.status, bot.stderr()).toBe(503);
    expect(await response?.json()).toEqual({
      ok: false,
      platforms: {},
      store: true,
      notReady: [NO_PLATFORM],
    });
    // /healthz answers while start-up still finishes (on Redis: the queue worker starts after recovery).
    for (let tries = 0; tries < 100 && !bot.stderr().includes("seedream-bot running"); tries++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bot.stderr()).toContain("seedream-bot running");
  });
});
