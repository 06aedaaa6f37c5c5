/**
 * An append-only log with promise-based waiters, so tests await "the next message the bot posted"
 * or "the first edit matching /done/" instead of polling or sleeping.
 */

export interface WaitOptions {
  /**
   * Rejects with a summary of what was recorded instead of hanging until the test timeout. Only a
   * guard for failing tests, never an assertion about speed.
   */
  timeoutMs?: number;
}

export const DEFAULT_WAIT_MS = 10_000;

interface Waiter<T> {
  test: (item: T) => boolean;
  resolve: (item: T) => void;
}

export class Recorder<T> {
  readonly #items: T[] = [];
  #waiters: Waiter<T>[] = [];
  #cursor = 0;

  constructor(
    private readonly label: string,
    private readonly describe: (item: T) => string = (item) => JSON.stringify(item),
  ) {}

  get all(): readonly T[] {
    return this.#items;
  }

  get count(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    const still: Waiter<T>[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.test(item)) waiter.resolve(item);
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /** The first item (already recorded or future) matching `predicate`; does not consume. */
  waitFor(predicate: (item: T) => boolean = () => true, options: WaitOptions = {}): Promise<T> {
    const found = this.#items.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return this.#wait(predicate, options, "matching item");
  }

  /**
   * Items in order, one per call: the n-th call resolves with the n-th item ever recorded. Lets a
   * test walk the bot's output ("status reply, then image 1, then image 2") without indices.
   */
  next(options: WaitOptions = {}): Promise<T> {
    const index = this.#cursor++;
    const existing = this.#items[index];
    if (existing !== undefined) return Promise.resolve(existing);
    return this.#wait((item) => this.#items.indexOf(item) === index, options, `item #${index + 1}`);
  }

  /** Moves `next()` past everything recorded so far (ignore earlier output). */
  skipToEnd(): void {
    this.#cursor = this.#items.length;
  }

  /** Waits until at least `n` items were recorded and returns the first `n`. */
  async take(n: number, options: WaitOptions = {}): Promise<T[]> {
    if (this.#items.length < n) {
      await this.#wait(() => this.#items.length >= n, options, `${n} items`);
    }
    return this.#items.slice(0, n);
  }

  #wait(test: (item: T) => boolean, options: WaitOptions, what: string): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const seen = this.#items.map((item, i) => `  ${i + 1}. ${this.describe(item)}`).join("\n");
        reject(
          new Error(`fake Discord: no ${what} in ${this.label} after ${timeoutMs} ms; recorded:\n${seen}`),
        );
      }, timeoutMs);
      timer.unref();
      const waiter: Waiter<T> = {
        test,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      this.#waiters.push(waiter);
    });
  }
}
