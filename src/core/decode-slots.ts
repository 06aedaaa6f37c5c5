/**
 * Process-wide bounds on how many big images are handled at once, each caller waiting in arrival
 * order.
 * - Reference decodes: scaling one 8000×8000 photo to 36 MP alone takes a few hundred MB of RSS,
 *   and libvips already spreads one image over every core, so decodes take turns
 *   (bench/bomb.ts measures four users at once).
 * - Generated images in flight: from the moment a big event starts arriving from Seedream until
 *   the run has posted it, each 4K image holds its base64 text (5 MB), its bytes (3.5 MB) and
 *   an upload's buffers. Fifty runs whose images arrive in the same second would hold all of
 *   that at once and keep the event loop busy for seconds; with these slots the other streams
 *   wait, unread, in their sockets (bench/delivery.ts: 50 concurrent 4K runs).
 */
export class DecodeSlots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  /** Waits for a slot; the returned function frees it (calling it again does nothing). */
  async acquire(): Promise<() => void> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.busy++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      // Hand the slot straight to the next caller, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }

  /** Callers waiting for a slot (for tests and the bench). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Slots held now. */
  get inUse(): number {
    return this.busy;
  }
}

const DECODE_DEFAULTS = {
  concurrentDecodes: 1,
  /**
   * Generated images read, decoded, checked and posted at once, process-wide. At 4K that is
   * at most about 8 × 15 MB in flight; an image on loopback takes ~0.1 s, so 8 keep both cores
   * busy while a slow upload waits on the network.
   */
  imagesInFlight: 8,
} as const satisfies Record<string, number>;

/** Every reference decode in this process goes through these slots. */
export const referenceDecodes = new DecodeSlots(DECODE_DEFAULTS.concurrentDecodes);

/** Every generated image, from its first big chunk to its post, holds one of these. */
export const imagesInFlight = new DecodeSlots(DECODE_DEFAULTS.imagesInFlight);
