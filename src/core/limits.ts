import { CancelledError, QueueFullError, UserQueueFullError } from "./errors.js";
import { userQueueFullSentence } from "./messages.js";

/**
 * Admission control: at most `maxConcurrentRuns` runs at once and `maxConcurrentRunsPerUser`
 * per user; others wait in one FIFO line (skipping past a user who is at their own limit) and
 * are told their position whenever it changes. One user may have at most `maxQueuedPerUser`
 * requests waiting, so no one can fill the line and lock everyone else out. A user can cancel
 * what they have running or waiting.
 */

export interface RunLimits {
  maxConcurrentRuns: number;
  maxConcurrentRunsPerUser: number;
  maxQueueLength: number;
  maxQueuedPerUser: number;
}

export interface RunTicket {
  /** Aborted when the user cancels. */
  signal: AbortSignal;
  /** Frees the slot; safe to call more than once. */
  release(): void;
}

export interface AcquireOptions {
  /** Called when the request has to wait, and again whenever its 1-based position changes. */
  onQueued?(position: number): void;
  /** A request accepted before a restart: it keeps its place even when the line is full. */
  resumed?: boolean;
}

interface Entry {
  user: string;
  controller: AbortController;
  onQueued?: (position: number) => void;
  lastPosition?: number;
  start?: (ticket: RunTicket) => void;
  reject?: (error: unknown) => void;
}

export class RunLimiter {
  private readonly running = new Set<Entry>();
  private readonly waiting: Entry[] = [];
  /** Set once the line is closed (the bot drains for a restart): what later requests are refused with. */
  private closedWith: (() => unknown) | undefined;

  constructor(private readonly limits: RunLimits) {}

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
    const entry: Entry = { user, controller: new AbortController(), onQueued: options.onQueued };
    if (this.closedWith) return Promise.reject(this.closedWith());
    if (this.waiting.length === 0 && this.canStart(user)) return Promise.resolve(this.start(entry));
    // A run resumed after a restart keeps its place whatever the limits say.
    const mine = this.waiting.reduce((count, other) => count + (other.user === user ? 1 : 0), 0);
    if (!options.resumed && mine >= this.limits.maxQueuedPerUser) {
      return Promise.reject(new UserQueueFullError(userQueueFullSentence(mine)));
    }
    if (!options.resumed && this.waiting.length >= this.limits.maxQueueLength) {
      return Promise.reject(
        new QueueFullError(
          `The bot is busy: ${this.waiting.length} request${this.waiting.length === 1 ? " is" : "s are"} already waiting. Please try again in a few minutes.`,
        ),
      );
    }
    return new Promise<RunTicket>((resolve, reject) => {
      entry.start = resolve;
      entry.reject = reject;
      this.waiting.push(entry);
      this.pump();
    });
  }

  /** Starts nothing more: every waiting request, and any that asks later, fails with `reason()`. */
  closeLine(reason: () => unknown): void {
    this.closedWith = reason;
    for (const entry of this.waiting.splice(0)) entry.reject?.(reason());
  }

  /** Aborts every running request's signal with `reason()` (the end of a shutdown grace). */
  abortRunning(reason: () => unknown): void {
    for (const entry of this.running) if (!entry.controller.signal.aborted) entry.controller.abort(reason());
  }

  /** Cancels every running and waiting request of `user`; returns how many there were. */
  cancel(user: string): number {
    let count = 0;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const entry = this.waiting[i] as Entry;
      if (entry.user !== user) continue;
      this.waiting.splice(i, 1);
      entry.reject?.(new CancelledError());
      count++;
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
    let mine = 0;
    for (const entry of this.running) if (entry.user === user) mine++;
    return mine < this.limits.maxConcurrentRunsPerUser;
  }

  private start(entry: Entry): RunTicket {
    this.running.add(entry);
    let released = false;
    return {
      signal: entry.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        this.running.delete(entry);
        this.pump();
      },
    };
  }

  private pump(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const entry = this.waiting[i] as Entry;
      if (this.canStart(entry.user)) {
        this.waiting.splice(i, 1);
        entry.start?.(this.start(entry));
      } else {
        i++;
      }
    }
    this.waiting.forEach((entry, index) => {
      const position = index + 1;
      if (entry.lastPosition === position) return;
      entry.lastPosition = position;
      entry.onQueued?.(position);
    });
  }
}
