/**
 * One message kept up to date with chat.update, throttled: Slack allows about one edit per
 * second per message, and a fast run would otherwise spend its rate limit on "3/15 done".
 * The newest text always wins; intermediate ones are skipped. `flush()` sends what is pending
 * at once (the adapter calls it when the run ends, so the summary never waits for a timer).
 */

export interface StatusClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemStatusClock: StatusClock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export class StatusLine {
  private pending: string | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private cancelTimer: (() => void) | undefined;

  constructor(
    /** Shows `text` (posting the message the first time, editing it afterwards). */
    private readonly send: (text: string) => Promise<void>,
    private readonly intervalMs: number,
    private readonly clock: StatusClock,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once `text` was sent, or was queued behind the throttle. */
  async set(text: string): Promise<void> {
    this.pending = text;
    if (this.inFlight || this.cancelTimer) return;
    const wait = this.lastSentAt + this.intervalMs - this.clock.now();
    if (wait <= 0) await this.sendPending();
    else this.later(wait);
  }

  /** Sends the pending text now (after any edit in flight) and stops the timer. */
  async flush(): Promise<void> {
    for (;;) {
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (this.pending === undefined) return;
      await this.sendPending();
    }
  }

  private later(ms: number): void {
    this.cancelTimer = this.clock.schedule(() => {
      this.cancelTimer = undefined;
      void this.sendPending();
    }, ms);
  }

  private sendPending(): Promise<void> {
    const text = this.pending;
    if (text === undefined) return Promise.resolve();
    this.pending = undefined;
    this.lastSentAt = this.clock.now();
    const sending = this.send(text)
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.inFlight = undefined;
        if (this.pending !== undefined && !this.cancelTimer) {
          this.later(Math.max(0, this.lastSentAt + this.intervalMs - this.clock.now()));
        }
      });
    this.inFlight = sending;
    return sending;
  }
}
