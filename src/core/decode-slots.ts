/**
 * A process-wide bound on how many images are decoded at once. One decode of a 36 MP reference
 * holds ~100 MB and a core; letting every user's references decode together is what turned four
 * small PNGs into a gigabyte. Callers wait their turn in arrival order.
 */
export class DecodeSlots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.busy++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next caller, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}

const DECODE_DEFAULTS = { concurrentDecodes: 2 } as const satisfies { concurrentDecodes: number };

/** Every reference decode in this process goes through these slots. */
export const referenceDecodes = new DecodeSlots(DECODE_DEFAULTS.concurrentDecodes);
