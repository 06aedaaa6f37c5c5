import { afterAll, beforeAll, expect, it } from "vitest";
import { StoreUnavailableError } from "../../src/core/errors.js";
import type { QueuedRun } from "../../src/core/run-queue.js";
import { silentLogger } from "../../src/core/runtime.js";
import { guardStore } from "../../src/core/store-guard.js";
import { openRunQueue } from "../../src/queue/bullmq-run-queue.js";
import { describeRedisServer, type RedisServer, startRedisServer } from "../helpers/redis-server.js";

/**
 * The run queue when Redis goes away under it: adding a run fails at once with the
 * store-unavailable error (the user is told so), nothing crashes, and once Redis is back the
 * queue takes and works runs again by itself.
 */

describeRedisServer("the run queue when Redis is lost", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.dispose();
  });

  it("fails fast while Redis is down and serves again when it returns", { timeout: 60_000 }, async () => {
    const queue = guardStore(
      await openRunQueue({
        url: server.url,
        maxConcurrentRuns: 4,
        maxConcurrentRunsPerUser: 1,
        logger: silentLogger,
      }),
    );
    const worked: string[] = [];
    let served = () => {};
    await queue.work(
      async (run: QueuedRun) => {
        worked.push(run.runId);
        served();
        return { kind: "done" };
      },
      { concurrency: 1 },
    );
    const job = (runId: string): QueuedRun => ({ runId, platform: "slack", userId: "U1" });
    const workedOn = (runId: string) =>
      new Promise<void>((resolve) => {
        served = () => {
          if (worked.includes(runId)) resolve();
        };
        served();
      });
    await queue.add(job("before"));
    await workedOn("before");

    await server.stop({ kill: true });
    const started = Date.now();
    const failure = await queue.add(job("during")).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);

    await server.start();
    // The restarted Redis is empty (the queue says its global limit again); adding works
    // again once the connection is back, and the worker picks the run up.
    const back = Date.now();
    let added = false;
    while (!added && Date.now() - back < 15_000) {
      added = await queue.add(job("after")).then(
        () => true,
        () => false,
      );
      if (!added) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(added).toBe(true);
    await workedOn("after");
    expect(worked).toEqual(["before", "after"]);
    await queue.close();
  });
});
