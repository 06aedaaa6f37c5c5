import { waitingStatus } from "./messages.js";
import type { PlatformRestorer } from "./ports.js";
import type { RunQueue } from "./run-queue.js";
import type { Logger } from "./runtime.js";
import type { BotStore } from "./store.js";

/**
 * A gateway tells the runs it handed to the shared queue their place in line, as the
 * in-process limiter does for its own: one read of the line per poll while any of them wait
 * (the work per poll is linear in the line's length), each run's status edited at most once per
 * `intervalMs` and only when its place changed. A run is forgotten once its record leaves
 * `waiting` (a worker took it, or it was cancelled): from then on its worker owns the status.
 */

export const POSITION_DEFAULTS = {
  /** How often the line is read while runs handed off from here wait in it. */
  pollMs: 2_500,
  /** Least time between two position updates of one run. */
  intervalMs: 5_000,
} as const satisfies Record<string, number>;

export interface QueuePositionsDeps {
  queue: RunQueue;
  store: BotStore;
  /** The platform's restorer: the status is edited in the thread it rebuilds from the record. */
  restorer(platform: string): PlatformRestorer | undefined;
  logger: Logger;
  now?: () => number;
}

export class QueuePositions {
  private readonly runs = new Map<string, { told?: number; toldAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly now: () => number;

  constructor(
    private readonly deps: QueuePositionsDeps,
    private readonly options: { pollMs: number; intervalMs: number } = POSITION_DEFAULTS,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Starts telling `runId` its place, until it leaves the line. */
  watch(runId: string): void {
    this.runs.set(runId, { toldAt: Number.NEGATIVE_INFINITY });
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.tell(), this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.runs.clear();
  }

  private async tell(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const { store, logger } = this.deps;
    try {
      const positions = await this.deps.queue.positions();
      const now = this.now();
      for (const [runId, told] of this.runs) {
        const position = positions.get(runId);
        if (position !== undefined && (position === told.told || now - told.toldAt < this.options.intervalMs))
          continue;
        const record = await store.getRun(runId);
        if (record?.state !== "waiting" || record.address === undefined) {
          this.runs.delete(runId);
          continue;
        }
        // Between two reads of the line (a worker is moving it): looked at again next poll.
        const restorer = this.deps.restorer(record.platform);
        if (position === undefined || restorer === undefined) continue;
        told.told = position;
        told.toldAt = now;
        await restorer
          .thread(record.address)
          .updateStatus(waitingStatus(position))
          .catch((error: unknown) =>
            logger.warn("could not tell a queued run its position", { runId, error }),
          );
      }
    } catch (error) {
      logger.warn("could not read the run queue's line", { error });
    } finally {
      this.polling = false;
      if (this.runs.size === 0) this.stop();
    }
  }
}
