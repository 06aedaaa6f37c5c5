/**
 * The shared run queue of a bot spread over several processes (STORE_URL=redis://): gateways
 * add recorded runs, workers take them. The run's record in the store stays the truth about
 * it (state, what was delivered, where it goes); a queue entry only says "start this run".
 * The embedded bot has no queue: its runs wait in the in-process limiter instead.
 */

export interface QueuedRun {
  runId: string;
  platform: string;
  userId: string;
}

/** What a worker did with a run it took. */
export type RunVerdict =
  /** Finished with it, whatever the run's outcome (the record says how it ended). */
  | { kind: "done" }
  /** Not now (its user is at their limit, its old process may still be alive): try again in `delayMs`. */
  | { kind: "later"; delayMs: number }
  /** This process is stopping: another worker should take it next. */
  | { kind: "handBack" };

export interface WorkOptions {
  /** Runs this process works on at once (WORKER_CONCURRENCY). */
  concurrency: number;
}

export interface RunQueue {
  /** Queues a recorded run; adding the same run twice queues it once. */
  add(run: QueuedRun): Promise<void>;
  /** 1-based places in line of the runs still waiting to start, by run id: one read of the line. */
  positions(): Promise<Map<string, number>>;
  /** Runs waiting to start, across every process. */
  length(): Promise<number>;
  /**
   * Starts taking runs: `process` is called for each, at most `concurrency` at once here, and
   * at most the global and per-user limits across every process. Resolves once taking.
   */
  work(process: (run: QueuedRun) => Promise<RunVerdict>, options: WorkOptions): Promise<void>;
  /** Stops taking runs; resolves once every `process` call here has returned. */
  stopWorking(): Promise<void>;
  close(): Promise<void>;
}
