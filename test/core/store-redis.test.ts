import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError, StoreUnavailableError } from "../../src/core/errors.js";
import { STORE_UNAVAILABLE } from "../../src/core/messages.js";
import { type NewRun, openStore } from "../../src/core/store.js";
import { describeRedisServer, type RedisServer, startRedisServer } from "../helpers/redis-server.js";

const DAY = 24 * 60 * 60 * 1000;
const run = (runId: string): NewRun => ({
  runId,
  platform: "slack",
  conversationId: "C1",
  userId: "U1",
  prompt: "a fox",
  params: { n: 1, watermark: false },
  createdAt: 1,
});

describeRedisServer("redis store when Redis is unreachable or lost", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.dispose();
  });

  it("at start-up: one line naming STORE_URL, password hidden, within the connect timeout", async () => {
    await server.stop();
    const url = `redis://:hunter2-secret@127.0.0.1:${server.port}/3`;
    const started = Date.now();
    const error = await openStore(url, { ttlMs: DAY, connectTimeoutMs: 800 }).catch(
      (caught: unknown) => caught,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error).toBeInstanceOf(StoreError);
    const message = (error as StoreError).message;
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toMatch(
      /^Cannot open the store at STORE_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/3: cannot connect to Redis \(.*ECONNREFUSED.*; tried for 0\.8 s\)\. Set STORE_URL to/,
    );
    expect(message).not.toContain("hunter2-secret");
    await server.start();
  });

  it("while running: requests are told the store is unavailable at once, and service resumes by itself", async () => {
    const store = await openStore(server.url, { ttlMs: DAY });
    expect(await store.seen("before")).toBe(false);
    await store.enqueueRun(run("run-1"));

    await server.stop({ kill: true });
    const started = Date.now();
    const failures = await Promise.all([
      store.seen("during").catch((error: unknown) => error),
      store.getRun("run-1").catch((error: unknown) => error),
      store.enqueueRun(run("run-2")).catch((error: unknown) => error),
      store.moveRun("run-1", "cancelled").catch((error: unknown) => error),
      store.setRunAddress("run-1", { platform: "slack", channel: "C1" }).catch((error: unknown) => error),
      store.unfinishedRuns().catch((error: unknown) => error),
      store.ping().catch((error: unknown) => error),
    ]);
    // Failing fast is the point: a request waiting on a dead Redis would hang the user's thread.
    expect(Date.now() - started).toBeLessThan(1000);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as StoreUnavailableError).userMessage).toBe(STORE_UNAVAILABLE);
    }
    expect(STORE_UNAVAILABLE).toBe("The bot's state store is unavailable, try again shortly.");

    await server.start();
    const back = Date.now();
    let answered = false;
    while (!answered && Date.now() - back < 10_000) {
      answered = await store.ping().then(
        () => true,
        () => false,
      );
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answered).toBe(true);
    // The reconnect backoff is capped at 2 s.
    expect(Date.now() - back).toBeLessThan(3000);
    expect(await store.seen("after")).toBe(false);
    expect(await store.seen("after")).toBe(true);
    // The run-record scripts work again on the restarted (empty, script cache gone) Redis.
    expect(await store.enqueueRun(run("run-3"))).toMatchObject({ seq: 1, state: "waiting" });
    expect(await store.moveRun("run-3", "running", { owner: "p" })).toMatchObject({ attempts: 1 });
    expect((await store.unfinishedRuns()).map((queued) => queued.runId)).toEqual(["run-3"]);
    await store.close();
  });

  it("closes without hanging while Redis is down", async () => {
    const store = await openStore(server.url, { ttlMs: DAY });
    await server.stop({ kill: true });
    await store.close();
    await server.start();
  });
});

describe("StoreUnavailableError", () => {
  it("keeps the driver's reason for operators and gives users one sentence", () => {
    const error = new StoreUnavailableError(new Error("connect ECONNREFUSED 127.0.0.1:6390"));
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.userMessage).toBe(STORE_UNAVAILABLE);
  });
});
