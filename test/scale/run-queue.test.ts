import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { periodAt } from "../../src/core/calendar.js";
import type { CounterStore } from "../../src/core/counters.js";
import { createHandler, type Handler } from "../../src/core/handler.js";
import { QUEUED_STATUS, waitingStatus } from "../../src/core/messages.js";
import { openCounters } from "../../src/core/open-counters.js";
import type { PlatformRestorer, ThreadAddress } from "../../src/core/ports.js";
import type { RunQueue } from "../../src/core/run-queue.js";
import { silentLogger } from "../../src/core/runtime.js";
import { type BotStore, openStore } from "../../src/core/store.js";
import { openRunQueue } from "../../src/queue/bullmq-run-queue.js";
import { createSeedreamClient, type SeedreamClient } from "../../src/seedream/client.js";
import { incoming, SECRET } from "../core/harness.js";
import { RecordingThread } from "../core/recording-thread.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { describeRedis, useRedis } from "../helpers/redis-server.js";

/**
 * The shared run queue in one test process: each "process" is its own handler with its own
 * store, counters and queue connections on one real Redis, as separate processes have. A
 * gateway hands runs to the queue; workers take them and post in threads rebuilt from the
 * runs' addresses (the recording threads below, one per channel).
 */

interface Proc {
  handler: Handler;
  store: BotStore;
  counters: CounterStore;
  queue: RunQueue;
  client: SeedreamClient;
  close(): Promise<void>;
}

describeRedis("the shared run queue (BullMQ on Redis)", () => {
  const redis = useRedis();
  let fake: FakeSeedream;
  let queueName = "";
  let cases = 0;
  const procs: Proc[] = [];
  /** Output threads by channel: what any process rebuilding that address posts into. */
  const threads = new Map<string, RecordingThread>();
  const restorer: PlatformRestorer = {
    platform: "test",
    thread: (at: ThreadAddress) => {
      const thread = threads.get(at.channel);
      if (thread === undefined) throw new Error(`no thread for ${at.channel}`);
      return thread;
    },
    attachment: () => {
      throw new Error("no attachments here");
    },
    storedImage: () => {
      throw new Error("no stored images here");
    },
  };

  async function start(env: Record<string, string> = {}, queueOptions: { lockDurationMs?: number } = {}) {
    const config = parseConfig({
      SEEDREAM_API_KEY: SECRET,
      SEEDREAM_BASE_URL: fake.url,
      STORE_URL: redis.url(),
      ...env,
    });
    const store = await openStore(config.store.url, { ttlMs: config.store.ttlMs });
    const counters = await openCounters(config.store.url);
    const queue = await openRunQueue({
      url: config.store.url,
      name: queueName,
      maxConcurrentRuns: config.limits.maxConcurrentRuns,
      maxConcurrentRunsPerUser: config.limits.maxConcurrentRunsPerUser,
      logger: silentLogger,
      stalledIntervalMs: 1_000,
      ...queueOptions,
    });
    const client = createSeedreamClient({
      provider: "ark",
      apiKey: SECRET,
      baseUrl: fake.url,
      maxRetries: 0,
    });
    const handler = createHandler({ generator: client, store, counters, settings: config, queue });
    const proc: Proc = {
      handler,
      store,
      counters,
      queue,
      client,
      async close() {
        await queue.close();
        await Promise.allSettled([client.close(), store.close(), counters.close()]);
      },
    };
    procs.push(proc);
    return proc;
  }

  /** A gateway (recovered, not working) and `count` workers taking `concurrency` runs each. */
  async function fleet(count: number, env: Record<string, string> = {}, concurrency = 2) {
    const gateway = await start(env);
    await gateway.handler.recover([restorer]);
    const workers: Proc[] = [];
    for (let i = 0; i < count; i++) {
      const worker = await start(env);
      await worker.handler.work([restorer], { concurrency });
      workers.push(worker);
    }
    return { gateway, workers, worker: workers[0] as Proc };
  }

  function threadFor(channel: string): { thread: RecordingThread; address: ThreadAddress } {
    const address: ThreadAddress = { platform: "test", channel, thread: "t1" };
    const thread = new RecordingThread({ address });
    threads.set(channel, thread);
    return { thread, address };
  }

  beforeAll(async () => {
    fake = await startFakeSeedream();
  });
  afterEach(async () => {
    fake.releaseAll();
    await Promise.allSettled(procs.splice(0).map((proc) => proc.close()));
    fake.reset();
    threads.clear();
    queueName = `runs-${++cases}`;
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("a gateway queues a run, a worker elsewhere makes it in the thread, and the quota counts it once", async () => {
    queueName = "runs-handoff";
    const { gateway, worker } = await fleet(1, { USER_DAILY_IMAGES: "10" });
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const { thread } = threadFor("C-handoff");
    const request = incoming("two herons --n 2");
    const result = await gateway.handler.submit(request, thread);
    expect(result.outcome).toBe("queued");
    expect(thread.statuses[0]).toBe(QUEUED_STATUS);
    await thread.waitFor((event) => event.kind === "status" && /^Done/.test(event.text));
    await worker.handler.idle();
    expect(thread.images.map((image) => image.caption)).toEqual(["1/2", "2/2"]);
    expect(fake.requests).toHaveLength(1);
    expect(await gateway.store.getRun(result.runId ?? "")).toMatchObject({ state: "done", attempts: 1 });
    // Reserved by the gateway, settled by the worker: two images today, not zero, not four.
    const day = await gateway.counters.readGroup(`quota:day:${periodAt(Date.now(), "UTC").day}:test`);
    expect(day.get(`u:${request.user.id}`)).toBe(2);
  });

  it("holds MAX_CONCURRENT_RUNS_PER_USER across workers, telling the waiting run its place", async () => {
    queueName = "runs-per-user";
    const limits = { MAX_CONCURRENT_RUNS_PER_USER: "1", MAX_CONCURRENT_RUNS: "10" };
    const { gateway, workers } = await fleet(2, limits);
    fake.queue({ images: [{ kind: "ok", gate: true }] }, { images: [{ kind: "ok" }] });
    const request = incoming("a first heron");
    const first = threadFor("C-user-1");
    const second = threadFor("C-user-2");
    expect((await gateway.handler.submit(request, first.thread)).outcome).toBe("queued");
    await fake.reached(0);
    const queued = await gateway.handler.submit({ ...request, text: "a second heron" }, second.thread);
    expect(queued.outcome).toBe("queued");
    // Four free slots across two workers, but the user's one slot is taken: the second waits, told so.
    await second.thread.waitFor((event) => event.kind === "status" && event.text === waitingStatus(1));
    expect(fake.requests).toHaveLength(1);
    fake.releaseAll();
    await second.thread.waitFor((event) => event.kind === "status" && /^Done/.test(event.text));
    expect(fake.requests.map((r) => r.body?.prompt)).toEqual(["a first heron", "a second heron"]);
    await Promise.all(workers.map((worker) => worker.handler.idle()));
    expect(second.thread.images).toHaveLength(1);
    expect(await gateway.store.getRun(queued.runId ?? "")).toMatchObject({ state: "done" });
  });

  it("a cancel at the gateway stops the run a worker is making", async () => {
    queueName = "runs-cancel";
    const { gateway, worker } = await fleet(1, {}, 1);
    fake.setScenario({ images: [{ kind: "ok", gate: true }, { kind: "ok" }] });
    const { thread } = threadFor("C-cancel");
    const request = incoming("two slow owls --n 2");
    const result = await gateway.handler.submit(request, thread);
    await fake.reached(0);
    expect(await gateway.handler.cancel(request.platform, request.user.id)).toBe(1);
    // The worker notices within its record-watch interval and hangs up on Seedream.
    expect(await fake.closed(0)).toBe("aborted");
    await worker.handler.idle();
    expect(thread.images).toEqual([]);
    expect(await gateway.store.getRun(result.runId ?? "")).toMatchObject({ state: "cancelled" });
  });

  it("a worker that drains hands its interrupted run back; another continues it with the missing images", async () => {
    queueName = "runs-drain";
    const { gateway, worker: leaving } = await fleet(1, {}, 1);
    fake.queue({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] }, { images: [{ kind: "ok" }] });
    const { thread } = threadFor("C-drain");
    const result = await gateway.handler.submit(incoming("two cranes --n 2"), thread);
    await thread.waitFor((event) => event.kind === "image");
    await fake.reached(1);
    const staying = await start();
    await staying.handler.work([restorer], { concurrency: 1 });
    await leaving.handler.drain(50);
    await thread.waitFor((event) => event.kind === "status" && /^Done/.test(event.text));
    await staying.handler.idle();
    expect(thread.images.map((image) => image.caption)).toEqual(["1/2", "2/2"]);
    // The continuation asked Seedream only for the image still missing.
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.body?.sequential_image_generation).not.toBe("auto");
    expect(await gateway.store.getRun(result.runId ?? "")).toMatchObject({ state: "done", attempts: 2 });
  });

  it("holds MAX_CONCURRENT_RUNS across workers", async () => {
    queueName = "runs-global";
    const limits = { MAX_CONCURRENT_RUNS: "1" };
    const { gateway } = await fleet(2, limits);
    fake.queue({ images: [{ kind: "ok", gate: true }] }, { images: [{ kind: "ok" }] });
    const first = threadFor("C-global-1");
    const second = threadFor("C-global-2");
    await gateway.handler.submit(incoming("one lark"), first.thread);
    await fake.reached(0);
    await gateway.handler.submit(incoming("another user's lark"), second.thread);
    await second.thread.waitFor((event) => event.kind === "status" && event.text === waitingStatus(1));
    expect(fake.requests).toHaveLength(1);
    fake.releaseAll();
    await second.thread.waitFor((event) => event.kind === "status" && /^Done/.test(event.text));
    expect(fake.requests.map((r) => r.body?.prompt)).toEqual(["one lark", "another user's lark"]);
  });
});
