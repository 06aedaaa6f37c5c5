/**
 * A process-wide bound on how many images are decoded at once. Scaling one 8000×8000 photo to
 * 36 MP alone takes a few hundred MB of RSS, and libvips already spreads one image over every
 * core, so decodes take turns (bench/bomb.ts measures four users at once). Callers wait in
 * arrival order.
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

const DECODE_DEFAULTS = { concurrentDecodes: 1 } as const satisfies { concurrentDecodes: number };

/** Every reference decode in this process goes through these slots. */
export const referenceDecodes = new DecodeSlots(DECODE_DEFAULTS.concurrentDecodes);
