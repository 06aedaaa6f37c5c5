import { DelayedError, type Job, Queue, WaitingError, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { QueuedRun, RunQueue, RunVerdict, WorkOptions } from "../core/run-queue.js";
import type { Logger } from "../core/runtime.js";
import { redisUserSlots } from "./user-slots.js";

/**
 * The run queue on BullMQ (STORE_URL=redis://). One job per run, its id the run id (so adding
 * a run twice queues it once); the job carries only the run id: the record in the store is
 * the truth. Limits across every process: MAX_CONCURRENT_RUNS is BullMQ's global concurrency,
 * MAX_CONCURRENT_RUNS_PER_USER a slot per running run (user-slots.ts).
 *
 * A worker killed mid-run stops renewing its job's lock; another worker's stalled check moves
 * the job back to wait and takes it over. BullMQ's defaults (30 s lock, 30 s checks, failing a
 * job on its second stall) would take up to a minute and then give up; here the lock lasts
 * 10 s, checks run every 5 s (a takeover within about 15 s) and a job may stall several times:
 * the run record's own attempt limit is what ends a run that keeps crashing its workers.
 */

export const RUN_QUEUE_DEFAULTS = {
  name: "runs",
  prefix: "seedream-bot",
  lockDurationMs: 10_000,
  stalledIntervalMs: 5_000,
  maxStalledCount: 5,
  /** A user's slot outlives its worker by this much at most. */
  slotLeaseMs: 15_000,
  /** A run whose user is at their limit is looked at again after this long. */
  userBusyRetryMs: 1_000,
  /** Finished jobs kept (for operators' eyes), by age in seconds. */
  keepCompletedSeconds: 3600,
} as const satisfies Record<string, string | number>;

export interface RunQueueOptions {
  url: string;
  maxConcurrentRuns: number;
  maxConcurrentRunsPerUser: number;
  logger: Logger;
  /** Tests shorten the takeover. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Queue name (tests use one per case). */
  name?: string;
}

export async function openRunQueue(options: RunQueueOptions): Promise<RunQueue> {
  const { logger } = options;
  const name = options.name ?? RUN_QUEUE_DEFAULTS.name;
  const prefix = RUN_QUEUE_DEFAULTS.prefix;
  // Adding and reading fail at once while Redis is away (the request is answered "the store
  // is unavailable"), and the connection keeps retrying by itself.
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
  });
  client.on("error", () => {});
  const queue = new Queue<QueuedRun>(name, { connection: client, prefix });
  queue.on("error", (error) => logger.warn("run queue connection error", { error }));
  await queue.waitUntilReady();
  await queue.setGlobalConcurrency(options.maxConcurrentRuns);
  // Said again on every reconnect: a Redis restarted without its data has forgotten it.
  client.on("ready", () => {
    queue.setGlobalConcurrency(options.maxConcurrentRuns).catch(() => {});
  });
  const slots = redisUserSlots(client, {
    prefix: `${prefix}:${name}`,
    leaseMs: RUN_QUEUE_DEFAULTS.slotLeaseMs,
  });
  let worker: Worker<QueuedRun> | undefined;
  let workerClient: Redis | undefined;

  const userKey = (run: QueuedRun) => `${run.platform}:${run.userId}`;

  async function processJob(
    job: Job<QueuedRun>,
    token: string | undefined,
    process: (run: QueuedRun) => Promise<RunVerdict>,
  ): Promise<void> {
    const run = job.data;
    const user = userKey(run);
    if (!(await slots.take(user, run.runId, options.maxConcurrentRunsPerUser))) {
      await job.moveToDelayed(Date.now() + RUN_QUEUE_DEFAULTS.userBusyRetryMs, token);
      throw new DelayedError();
    }
    const renew = setInterval(
      () =>
        void slots
          .renew(user, run.runId)
          .catch((error: unknown) => logger.warn("could not renew a user's run slot", { error })),
      RUN_QUEUE_DEFAULTS.slotLeaseMs / 3,
    );
    renew.unref();
    let verdict: RunVerdict;
    try {
      verdict = await process(run);
    } finally {
      clearInterval(renew);
      await slots
        .release(user, run.runId)
        .catch((error: unknown) => logger.warn("could not free a user's run slot", { error }));
    }
    if (verdict.kind === "later") {
      await job.moveToDelayed(Date.now() + verdict.delayMs, token);
      throw new DelayedError();
    }
    if (verdict.kind === "handBack") {
      // To the front of the line: the next worker to ask takes it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
  }

  return {
    async add(run) {
      await queue.add("run", run, {
        jobId: run.runId,
        removeOnComplete: { age: RUN_QUEUE_DEFAULTS.keepCompletedSeconds },
        // A failed job would block adding the run again (same id): the record keeps the failure.
        removeOnFail: true,
      });
    },
    async positions() {
      // Next to start first: the wait list, then runs whose user was busy, by when they are due.
      const ids = await queue.getRanges(["wait", "prioritized", "delayed"], 0, -1, true);
      return new Map(ids.map((id, index) => [id, index + 1]));
    },
    async length() {
      return queue.getJobCountByTypes("wait", "prioritized", "delayed");
    },
    async work(process, workOptions: WorkOptions) {
      if (worker) return;
      // Workers block on Redis (BullMQ requires no per-request retry limit on their connection).
      workerClient = new Redis(options.url, {
        maxRetriesPerRequest: null,
        retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
      });
      workerClient.on("error", () => {});
      worker = new Worker<QueuedRun>(name, (job, token) => processJob(job, token, process), {
        connection: workerClient,
        prefix,
        concurrency: workOptions.concurrency,
        lockDuration: options.lockDurationMs ?? RUN_QUEUE_DEFAULTS.lockDurationMs,
        stalledInterval: options.stalledIntervalMs ?? RUN_QUEUE_DEFAULTS.stalledIntervalMs,
        maxStalledCount: RUN_QUEUE_DEFAULTS.maxStalledCount,
        removeOnComplete: { age: RUN_QUEUE_DEFAULTS.keepCompletedSeconds },
        removeOnFail: { count: 0 },
      });
      worker.on("error", (error) => logger.warn("run queue worker error", { error }));
      worker.on("failed", (job, error) =>
        logger.error("a queued run failed outside its record", { runId: job?.id, error }),
      );
      worker.on("stalled", (jobId) =>
        logger.info("a run's worker went away: taking it over", { runId: jobId }),
      );
      await worker.waitUntilReady();
    },
    async stopWorking() {
      await worker?.close();
    },
    async close() {
      await worker?.close().catch(() => {});
      await queue.close().catch(() => {});
      workerClient?.disconnect();
      client.disconnect();
    },
  };
}
