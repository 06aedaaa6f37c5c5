import { CancelledError, QueueFullError, UserQueueFullError } from "./errors.js";
import { queueFullSentence, userQueueFullSentence } from "./messages.js";
import { type StatusTimers, systemStatusTimers } from "./status-throttle.js";

/**
 * Admission control: at most `maxConcurrentRuns` runs at once and `maxConcurrentRunsPerUser`
 * per user; others wait in one FIFO line (skipping past a user who is at their own limit) and
 * are told their position when it changes, at most once per `positionIntervalMs` each (a busy
 * line moves with every release: telling everyone every time is an edit storm, N² over a
 * queue drained). One user may have at most `maxQueuedPerUser` requests waiting, so no one can
 * fill the line and lock everyone else out. A user can cancel what they have running or waiting.
 * Each release walks the line once: per-user counts are kept, not recounted.
 */

export interface RunLimits {
  maxConcurrentRuns: number;
  maxConcurrentRunsPerUser: number;
  maxQueueLength: number;
  maxQueuedPerUser: number;
}

export const LIMITER_DEFAULTS = {
  /** Least time between two position updates of one waiting request. */
  positionIntervalMs: 5_000,
} as const satisfies Record<string, number>;

export interface RunTicket {
  /** Aborted when the user cancels. */
  signal: AbortSignal;
  /** Frees the slot; safe to call more than once. */
  release(): void;
}

export interface AcquireOptions {
  /**
   * Called when the request has to wait, and again when its 1-based position changed, at most
   * once per `positionIntervalMs` (the latest position; none if it is back where it was told).
   */
  onQueued?(position: number): void;
  /** A request accepted before a restart: it keeps its place even when the line is full. */
  resumed?: boolean;
}

interface Entry {
  user: string;
  controller: AbortController;
  onQueued?: ((position: number) => void) | undefined;
  /** The position last told, and when. */
  told?: number;
  toldAt: number;
  start?: (ticket: RunTicket) => void;
  reject?: (error: unknown) => void;
}

export class RunLimiter {
  private readonly running = new Set<Entry>();
  private readonly runningByUser = new Map<string, number>();
  private readonly waitingByUser = new Map<string, number>();
  private waiting: Entry[] = [];
  /** Set once the line is closed (the bot drains for a restart): what later requests are refused with. */
  private closedWith: (() => unknown) | undefined;
  /** The one timer that tells the positions held back by the interval. */
  private refresh: { at: number; cancel: () => void } | undefined;

  constructor(
    private readonly limits: RunLimits,
    private readonly timers: StatusTimers = systemStatusTimers,
    private readonly positionIntervalMs: number = LIMITER_DEFAULTS.positionIntervalMs,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * Resolves when the request may run; throws `UserQueueFullError` when the user already has
   * `maxQueuedPerUser` waiting, `QueueFullError` when the line is full.
   */
  acquire(user: string, options: AcquireOptions = {}): Promise<RunTicket> {
    const entry: Entry = {
      user,
      controller: new AbortController(),
      onQueued: options.onQueued,
      toldAt: Number.NEGATIVE_INFINITY,
    };
    if (this.closedWith) return Promise.reject(this.closedWith());
    if (this.waiting.length === 0 && this.canStart(user)) return Promise.resolve(this.start(entry));
    // A run resumed after a restart keeps its place whatever the limits say.
    const mine = this.waitingByUser.get(user) ?? 0;
    if (!options.resumed && mine >= this.limits.maxQueuedPerUser) {
      return Promise.reject(new UserQueueFullError(userQueueFullSentence(mine)));
    }
    if (!options.resumed && this.waiting.length >= this.limits.maxQueueLength) {
      return Promise.reject(new QueueFullError(queueFullSentence(this.waiting.length)));
    }
    return new Promise<RunTicket>((resolve, reject) => {
      entry.start = resolve;
      entry.reject = reject;
      this.waiting.push(entry);
      bump(this.waitingByUser, user, 1);
      this.pump();
    });
  }

  /** Starts nothing more: every waiting request, and any that asks later, fails with `reason()`. */
  closeLine(reason: () => unknown): void {
    this.closedWith = reason;
    const waiting = this.waiting;
    this.waiting = [];
    this.waitingByUser.clear();
    this.refresh?.cancel();
    this.refresh = undefined;
    for (const entry of waiting) entry.reject?.(reason());
  }

  /** Aborts every running request's signal with `reason()` (the end of a shutdown grace). */
  abortRunning(reason: () => unknown): void {
    for (const entry of this.running) if (!entry.controller.signal.aborted) entry.controller.abort(reason());
  }

  /** Cancels every running and waiting request of `user`; returns how many there were. */
  cancel(user: string): number {
    let count = 0;
    const cancelled = this.waiting.filter((entry) => entry.user === user);
    if (cancelled.length > 0) {
      this.waiting = this.waiting.filter((entry) => entry.user !== user);
      this.waitingByUser.delete(user);
      for (const entry of cancelled) entry.reject?.(new CancelledError());
      count += cancelled.length;
    }
    for (const entry of this.running) {
      if (entry.user !== user || entry.controller.signal.aborted) continue;
      entry.controller.abort(new CancelledError());
      count++;
    }
    if (count > 0) this.pump();
    return count;
  }

  private canStart(user: string): boolean {
    if (this.running.size >= this.limits.maxConcurrentRuns) return false;
    return (this.runningByUser.get(user) ?? 0) < this.limits.maxConcurrentRunsPerUser;
  }

  private start(entry: Entry): RunTicket {
    this.running.add(entry);
    bump(this.runningByUser, entry.user, 1);
    let released = false;
    return {
      signal: entry.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        this.running.delete(entry);
        bump(this.runningByUser, entry.user, -1);
        this.pump();
      },
    };
  }

  /** Starts whoever may start now, in line order, in one pass; then tells the positions. */
  private pump(): void {
    if (this.running.size < this.limits.maxConcurrentRuns) {
      const still: Entry[] = [];
      for (const entry of this.waiting) {
        if (!this.canStart(entry.user)) {
          still.push(entry);
          continue;
        }
        bump(this.waitingByUser, entry.user, -1);
        entry.start?.(this.start(entry));
      }
      this.waiting = still;
    }
    this.tellPositions();
  }

  /** One pass over the line: each changed position is told now, or when its interval is up. */
  private tellPositions(): void {
    const now = this.timers.now();
    let due = Number.POSITIVE_INFINITY;
    this.waiting.forEach((entry, index) => {
      const position = index + 1;
      if (entry.onQueued === undefined || entry.told === position) return;
      const allowedAt = entry.toldAt + this.positionIntervalMs;
      if (allowedAt > now) {
        due = Math.min(due, allowedAt);
        return;
      }
      entry.told = position;
      entry.toldAt = now;
      entry.onQueued(position);
    });
    if (due === Number.POSITIVE_INFINITY || (this.refresh && this.refresh.at <= due)) return;
    this.refresh?.cancel();
    this.refresh = {
      at: due,
      cancel: this.timers.schedule(() => {
        this.refresh = undefined;
        this.tellPositions();
      }, due - now),
    };
  }
}

function bump(counts: Map<string, number>, user: string, by: number): void {
  const next = (counts.get(user) ?? 0) + by;
  if (next > 0) counts.set(user, next);
  else counts.delete(user);
}
