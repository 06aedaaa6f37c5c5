import type { ImagePost, OutputThread, PostedImage, ThreadAddress } from "../../src/core/ports.js";

/**
 * An `OutputThread` that records everything posted to it, in order. Adapter tests may reuse it
 * to compare a platform's behaviour with the core's. `waitFor` resolves when a matching event is
 * recorded, so tests can sequence on what was posted instead of on time.
 */

export type RecordedEvent =
  | { kind: "status"; text: string }
  | { kind: "text"; text: string }
  | { kind: "ephemeral"; text: string }
  | {
      kind: "image";
      messageId: string;
      caption: string;
      fileName: string;
      mimeType: string;
      altText: string;
      bytes: Buffer;
    };

export type RecordedImage = Extract<RecordedEvent, { kind: "image" }>;

export interface RecordingThreadOptions {
  /** Offer `postEphemeral` (Slack-like). */
  ephemeral?: boolean;
  maxUploadBytes?: number;
  /** How many image posts fail (thrown platform error) before posts start succeeding. */
  failImagePosts?: number;
  /** A `ref` returned with every posted image, derived from its message id. */
  refFor?: (messageId: string) => string;
  /** Where the thread is (makes its runs resumable after a restart). */
  address?: ThreadAddress;
}

interface Waiter {
  predicate: (event: RecordedEvent) => boolean;
  resolve: (event: RecordedEvent) => void;
}

export class RecordingThread implements OutputThread {
  readonly events: RecordedEvent[] = [];
  readonly maxUploadBytes: number | undefined;
  postEphemeral?: (text: string) => Promise<void>;
  /** Image posts attempted, including failed ones. */
  imageAttempts = 0;
  private failuresLeft: number;
  private nextId = 1;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly options: RecordingThreadOptions = {}) {
    this.maxUploadBytes = options.maxUploadBytes;
    this.failuresLeft = options.failImagePosts ?? 0;
    if (options.ephemeral) {
      this.postEphemeral = async (text) => this.record({ kind: "ephemeral", text });
    }
  }

  address(): ThreadAddress | undefined {
    return this.options.address;
  }

  async postText(text: string): Promise<void> {
    this.record({ kind: "text", text });
  }

  async postImage(image: ImagePost): Promise<PostedImage> {
    this.imageAttempts++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error("platform upload failed (recording thread)");
    }
    const messageId = `m${this.nextId++}`;
    this.record({
      kind: "image",
      messageId,
      caption: image.caption,
      fileName: image.fileName,
      mimeType: image.mimeType,
      altText: image.altText,
      bytes: image.bytes,
    });
    return this.options.refFor ? { messageId, ref: this.options.refFor(messageId) } : { messageId };
  }

  async updateStatus(text: string): Promise<void> {
    this.record({ kind: "status", text });
  }

  get images(): RecordedImage[] {
    return this.events.filter((event): event is RecordedImage => event.kind === "image");
  }

  /** Texts posted into the thread (not statuses, not ephemeral). */
  get texts(): string[] {
    return this.events.flatMap((event) => (event.kind === "text" ? [event.text] : []));
  }

  get ephemerals(): string[] {
    return this.events.flatMap((event) => (event.kind === "ephemeral" ? [event.text] : []));
  }

  get statuses(): string[] {
    return this.events.flatMap((event) => (event.kind === "status" ? [event.text] : []));
  }

  get lastStatus(): string | undefined {
    return this.statuses.at(-1);
  }

  /** Everything a user would see, in order, as one line per event (statuses excluded). */
  get transcript(): string[] {
    return this.events.flatMap((event) =>
      event.kind === "image" ? [`[image ${event.caption}]`] : event.kind === "status" ? [] : [event.text],
    );
  }

  waitFor(predicate: (event: RecordedEvent) => boolean): Promise<RecordedEvent> {
    const existing = this.events.find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  private record(event: RecordedEvent): void {
    this.events.push(event);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as Waiter;
      if (!waiter.predicate(event)) continue;
      this.waiters.splice(i, 1);
      waiter.resolve(event);
    }
  }
}
