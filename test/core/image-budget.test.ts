import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { CancelledError, StoreUnavailableError } from "../../src/core/errors.js";
import { createHandler } from "../../src/core/handler.js";
import { createImageBudget, type ImageBudget } from "../../src/core/image-budget.js";
import { CAPACITY_STATUS } from "../../src/core/messages.js";
import { connectRedis } from "../../src/core/redis-client.js";
import { openStore } from "../../src/core/store.js";
import { createDemoGenerator } from "../../src/demo/demo-generator.js";
import { resolveProvider } from "../../src/seedream/providers.js";
import { prepareRequest } from "../../src/seedream/validate.js";
import { describeRedis, describeRedisServer, startRedisServer, useRedis } from "../helpers/redis-server.js";
import { incoming } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/**
 * SEEDREAM_IMAGES_PER_MINUTE, with one-second windows so a "minute" passes within the test. A
 * window starts with its first take, so every test uses a budget (or key prefix) of its own.
 */

async function timed(budget: ImageBudget, images: number): Promise<{ ms: number; waited: boolean }> {
  const started = Date.now();
  let waited = false;
  await budget.take(images, { onWait: () => (waited = true) });
  return { ms: Date.now() - started, waited };
}

function budgetContract(make: (perMinute: number) => ImageBudget): void {
  it("lets images through until the budget is spent, then waits for the next window", async () => {
    const budget = make(5);
    expect(await timed(budget, 3)).toMatchObject({ waited: false });
    expect(await timed(budget, 2)).toMatchObject({ waited: false });
    const third = await timed(budget, 2);
    expect(third.waited).toBe(true);
    expect(third.ms).toBeGreaterThan(500);
    expect(third.ms).toBeLessThan(1600);
  });

  it("a request that waits does not block a smaller one that still fits", async () => {
    const budget = make(5);
    await budget.take(3);
    let bigDone = false;
    const big = budget.take(4).then(() => (bigDone = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 3 + 2 = 5 still fits although the 4 was refused.
    expect(await timed(budget, 2)).toMatchObject({ waited: false });
    expect(bigDone).toBe(false);
    await big;
  });

  it("a request bigger than the whole budget takes the whole budget instead of waiting forever", async () => {
    const budget = make(3);
    expect(await timed(budget, 15)).toMatchObject({ waited: false });
    expect((await timed(budget, 1)).waited).toBe(true);
  });

  it("cancelling a waiting request ends its wait at once", async () => {
    const budget = make(1);
    await budget.take(1);
    const controller = new AbortController();
    const waiting = budget.take(1, { signal: controller.signal }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = Date.now();
    controller.abort(new CancelledError());
    expect(await waiting).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(100);
  });
}

describe("image budget in one process", () => {
  budgetContract((perMinute) => createImageBudget({ perMinute, windowSeconds: 1 }));

  it("a run over the budget says it waits for Seedream capacity, then runs", async () => {
    const config = parseConfig({ SEEDREAM_PROVIDER: "demo", STORE_URL: "memory://" });
    const store = await openStore("memory://", { ttlMs: 60_000 });
    const ark = resolveProvider("ark");
    const handler = createHandler({
      // The demo generator, fast and without its random moderation blocks.
      generator: createDemoGenerator({
        validate: (request, references) =>
          prepareRequest(request, { provider: ark, defaultModel: ark.defaultModel }, references),
        describeModel: () => "Demo",
        moderationRate: 0,
        delayMs: () => 20,
      }),
      store,
      settings: config,
      imageBudget: createImageBudget({ perMinute: 2, windowSeconds: 1 }),
    });
    const first = new RecordingThread();
    const second = new RecordingThread();
    const results = await Promise.all([
      handler.submit(incoming("a fox --n 2"), first),
      handler.submit(incoming("an owl --n 2"), second),
    ]);
    expect(results.map((result) => result.outcome)).toEqual(["completed", "completed"]);
    const waited = [first, second].filter((thread) => thread.statuses.includes(CAPACITY_STATUS));
    expect(waited).toHaveLength(1);
    expect(first.images).toHaveLength(2);
    expect(second.images).toHaveLength(2);
    await store.close();
  });
});

describeRedis("image budget on Redis, shared by processes", () => {
  const redis = useRedis();
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const client of clients) client.disconnect();
  });
  /** Each budget gets its own connection, as each process would. */
  let client: Redis;
  beforeAll(async () => {
    client = await connectRedis(redis.url());
    clients.push(client);
  });
  /** A budget on its own connection, as in another process. */
  const otherProcess = async (keyPrefix: string, perMinute: number) => {
    const own = await connectRedis(redis.url());
    clients.push(own);
    return createImageBudget({ perMinute, windowSeconds: 1, redis: own, keyPrefix });
  };

  describe("contract", () => {
    budgetContract((perMinute) =>
      createImageBudget({ perMinute, windowSeconds: 1, redis: client, keyPrefix: `budget-${randomUUID()}` }),
    );
  });

  it("two processes draw on one budget", async () => {
    const prefix = `shared-${randomUUID()}`;
    const [a, b] = await Promise.all([otherProcess(prefix, 4), otherProcess(prefix, 4)]);
    expect(await timed(a, 3)).toMatchObject({ waited: false });
    expect((await timed(b, 2)).waited).toBe(true);
  });
});

describeRedisServer("image budget when Redis is lost", () => {
  it("tells the request the state store is unavailable instead of hanging", async () => {
    const server = await startRedisServer();
    const client = await connectRedis(server.url);
    try {
      const budget = createImageBudget({ perMinute: 5, redis: client });
      await budget.take(1);
      await server.stop({ kill: true });
      const started = Date.now();
      expect(await budget.take(1).catch((error: unknown) => error)).toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      client.disconnect();
      await server.dispose();
    }
  });
});
