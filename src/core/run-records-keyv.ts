import type Keyv from "keyv";
import type { ThreadAddress } from "./run-record.js";
import {
  applyMove,
  freshRun,
  type ImageRecord,
  type MovePlan,
  type NewRun,
  type RunRecord,
  type RunRecords,
} from "./run-records.js";

/**
 * Run records on keyv (memory://, sqlite://): one JSON value per run and the queue as one array.
 * keyv has no compare-and-set, so each read-modify-write holds an in-process lock per record;
 * that is enough because only one process opens these backends.
 */
export class KeyvRunRecords implements RunRecords {
  /** Serialises read-modify-write updates of one record (a run, or the queue). */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly keyv: Keyv,
    private readonly ttlMs: number,
  ) {}

  async put(record: RunRecord): Promise<void> {
    await this.keyv.set(runKey(record.runId), record, this.ttlMs);
  }

  async enqueue(run: NewRun): Promise<RunRecord> {
    return this.withLock(QUEUE_KEY, async () => {
      const seq = ((await this.keyv.get<number>(SEQ_KEY)) ?? 0) + 1;
      const record = freshRun(run, seq, Date.now());
      await this.keyv.set(runKey(run.runId), record, this.ttlMs);
      await this.keyv.set(SEQ_KEY, seq);
      const queue = (await this.keyv.get<string[]>(QUEUE_KEY)) ?? [];
      await this.keyv.set(QUEUE_KEY, [...queue, run.runId]);
      return record;
    });
  }

  async move(runId: string, plan: MovePlan): Promise<RunRecord | undefined> {
    const moved = await this.withLock(runId, async () => {
      const run = await this.get(runId);
      const next = run && applyMove(run, plan, Date.now());
      if (next) await this.keyv.set(runKey(runId), next, this.ttlMs);
      return next;
    });
    if (moved?.finishedAt !== undefined) {
      await this.withLock(QUEUE_KEY, async () => {
        const queue = (await this.keyv.get<string[]>(QUEUE_KEY)) ?? [];
        if (queue.includes(runId))
          await this.keyv.set(
            QUEUE_KEY,
            queue.filter((id) => id !== runId),
          );
      });
    }
    return moved;
  }

  async setAddress(runId: string, address: ThreadAddress): Promise<void> {
    await this.withLock(runId, async () => {
      const run = await this.get(runId);
      if (run === undefined) return;
      await this.keyv.set(runKey(runId), { ...run, address, updatedAt: Date.now() }, this.ttlMs);
    });
  }

  async addImage(image: ImageRecord): Promise<void> {
    await this.withLock(image.runId, async () => {
      const run = await this.get(image.runId);
      if (run === undefined) return;
      run.images = [...run.images.filter((other) => other.messageId !== image.messageId), image];
      run.updatedAt = Date.now();
      await this.keyv.set(runKey(run.runId), run, this.ttlMs);
    });
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const run = await this.keyv.get<RunRecord>(runKey(runId));
    return run ? withDefaults(run) : undefined;
  }

  async unfinished(): Promise<RunRecord[]> {
    const queue = (await this.keyv.get<string[]>(QUEUE_KEY)) ?? [];
    const runs = await Promise.all(queue.map((runId) => this.get(runId)));
    return runs
      .filter((run): run is RunRecord => run !== undefined && run.finishedAt === undefined)
      .sort((a, b) => a.seq - b.seq);
  }

  private async withLock<T>(key: string, update: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(update, update);
    const settled = next.catch(() => {});
    this.locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

const QUEUE_KEY = "runs:unfinished";
const SEQ_KEY = "runs:seq";
const runKey = (runId: string): string => `run:${runId}`;

/** Records written before runs were durable read as finished runs of one attempt. */
function withDefaults(run: RunRecord): RunRecord {
  if (run.state !== undefined) return run;
  return { ...run, state: "done", seq: 0, attempts: 1, references: [], updatedAt: run.createdAt };
}
