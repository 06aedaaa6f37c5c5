/**
 * The one status line of a request, kept up to date without holding up the images, "latest value
 * wins": the first text is awaited (so the status sits above the first image); later texts never
 * block the run, they replace whatever is still waiting and go out one at a time, at most one per
 * platform interval (Slack allows about one edit per second per message; a fast run would
 * otherwise spend its rate limit on "3/15 done"). `flush()` sends what is pending at once and
 * waits for it (the core calls it when a request ends, so the summary never waits for a timer).
 */

export interface StatusTimers {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemStatusTimers: StatusTimers = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export class StatusThrottle {
  #pending: string | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #cancelTimer: (() => void) | undefined;
  #shown = false;

  constructor(
    /** Shows `text` (posting the message the first time, editing it afterwards). */
    private readonly send: (text: string) => Promise<void>,
    private readonly intervalMs: number,
    private readonly timers: StatusTimers,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether any text has been sent (or tried). */
  get shown(): boolean {
    return this.#shown;
  }

  /** Resolves once the first text was sent; later texts resolve at once (they are queued). */
  set(text: string): Promise<void> {
    this.#pending = text;
    const first = this.#inFlight !== undefined && !this.#shown ? this.#inFlight : Promise.resolve();
    if (this.#inFlight || this.#cancelTimer) return first;
    const wait = this.#lastSentAt + this.intervalMs - this.timers.now();
    if (wait > 0) {
      this.#later(wait);
      return Promise.resolve();
    }
    const sending = this.#sendPending();
    return this.#shown ? Promise.resolve() : sending;
  }

  /** Sends the pending text now (after any send in flight) and stops the timer. */
  async flush(): Promise<void> {
    for (;;) {
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
      if (this.#inFlight) {
        await this.#inFlight;
        continue;
      }
      if (this.#pending === undefined) return;
      await this.#sendPending();
    }
  }

  #later(ms: number): void {
    this.#cancelTimer = this.timers.schedule(() => {
      this.#cancelTimer = undefined;
      void this.#sendPending();
    }, ms);
  }

  #sendPending(): Promise<void> {
    const text = this.#pending;
    if (text === undefined) return Promise.resolve();
    this.#pending = undefined;
    this.#lastSentAt = this.timers.now();
    const sending = this.send(text)
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.#shown = true;
        this.#inFlight = undefined;
        if (this.#pending !== undefined && !this.#cancelTimer) {
          this.#later(Math.max(0, this.#lastSentAt + this.intervalMs - this.timers.now()));
        }
      });
    this.#inFlight = sending;
    return sending;
  }
}
