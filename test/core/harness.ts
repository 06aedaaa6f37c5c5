import { afterAll, afterEach, beforeAll } from "vitest";
import { type Config, parseConfig } from "../../src/config.js";
import { createHandler, type Handler } from "../../src/core/handler.js";
import { openCounters } from "../../src/core/open-counters.js";
import type { Attachment, IncomingRequest, StoredImageRef } from "../../src/core/ports.js";
import type { Clock } from "../../src/core/runtime.js";
import { type BotStore, openStore } from "../../src/core/store.js";
import { createSeedreamClient, type SeedreamClient } from "../../src/seedream/client.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { bytesAttachment } from "./attachments.js";
import { RecordingThread, type RecordingThreadOptions } from "./recording-thread.js";

/** The core wired the way the app wires it: real client → fake Seedream, memory store, manual clock. */

export const SECRET = "sk-test-0123456789abcdef-DO-NOT-SHOW";

export class ManualClock implements Clock {
  constructor(private time = 1_750_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface Harness {
  handler: Handler;
  client: SeedreamClient;
  store: BotStore;
  config: Config;
  clock: ManualClock;
  /** Delays the run asked to sleep for (image post retries). */
  sleeps: number[];
  /** Delays the client asked to sleep for (API retries). */
  clientSleeps: number[];
  close(): Promise<void>;
}

export async function createHarness(
  fake: FakeSeedream,
  env: Record<string, string> = {},
  clientOptions: { idleTimeoutMs?: number } = {},
): Promise<Harness> {
  const config = parseConfig({
    SEEDREAM_API_KEY: SECRET,
    SEEDREAM_BASE_URL: fake.url,
    STORE_URL: "memory://",
    ...env,
  });
  const clientSleeps: number[] = [];
  const sleeps: number[] = [];
  const client = createSeedreamClient({
    provider: "ark",
    apiKey: SECRET,
    baseUrl: fake.url,
    maxRetries: config.seedream.maxRetries,
    random: () => 0,
    sleep: async (ms) => {
      clientSleeps.push(ms);
    },
    ...clientOptions,
  });
  const store = await openStore(config.store.url, { ttlMs: config.store.ttlMs });
  const clock = new ManualClock();
  // Quota counters beside the store, as the app keeps them (so a sqlite store's survive a restart).
  const counters = await openCounters(config.store.url, { clock });
  const handler = createHandler({
    generator: client,
    store,
    counters,
    settings: config,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return {
    handler,
    client,
    store,
    config,
    clock,
    sleeps,
    clientSleeps,
    close: async () => {
      await client.close();
      await store.close();
      await counters.close();
    },
  };
}

/**
 * One fake Seedream and one harness for a test file, handed to `assign` once both are up. After
 * each test the fake releases its gated images (so no run is left waiting) and forgets what it saw.
 */
export function useHarness(assign: (fake: FakeSeedream, harness: Harness) => void): void {
  let fake: FakeSeedream | undefined;
  let harness: Harness | undefined;
  beforeAll(async () => {
    fake = await startFakeSeedream();
    harness = await createHarness(fake);
    assign(fake, harness);
  });
  afterAll(async () => {
    await harness?.close();
    await fake?.close();
  });
  afterEach(() => {
    fake?.releaseAll();
    fake?.reset();
  });
}

let nextUser = 1;

/** A request from a fresh user (so per-user limits never couple tests). */
export function incoming(text: string, extra: Partial<IncomingRequest> = {}): IncomingRequest {
  const id = `U${nextUser++}`;
  return {
    platform: "test",
    conversationId: "thread-1",
    user: { id, displayName: `User ${id}` },
    text,
    attachments: [],
    ...extra,
  };
}

/**
 * A recording thread that also serves its posted images back as attachments, the way an
 * adapter's `resolveStoredImage` re-fetches an image it posted earlier.
 */
export function threadWithRefetch(options: RecordingThreadOptions = {}): {
  thread: RecordingThread;
  resolveStoredImage: (image: StoredImageRef) => Attachment;
} {
  const thread = new RecordingThread({ ...options, refFor: (messageId) => `file-${messageId}` });
  const resolveStoredImage = (image: StoredImageRef): Attachment => {
    const posted = thread.images.find((candidate) => `file-${candidate.messageId}` === image.ref);
    if (!posted) throw new Error(`no posted image for ${image.ref}`);
    return bytesAttachment(image.fileName, posted.bytes);
  };
  return { thread, resolveStoredImage };
}
