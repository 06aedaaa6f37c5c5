import { afterAll, beforeAll, beforeEach } from "vitest";
import type { SeedreamClient, SeedreamClientOptions } from "../../src/seedream/client.js";
import { createSeedreamClient } from "../../src/seedream/client.js";
import type { GenerationEvent } from "../../src/seedream/types.js";
import { sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";

export const API_KEY = "sk-test-7f3a9c2e51d84b06";

/** One fake Seedream for a test file, handed to `assign` once it is up and reset before each test. */
export function useFakeSeedream(assign: (fake: FakeSeedream) => void): void {
  let fake: FakeSeedream | undefined;
  beforeAll(async () => {
    fake = await startFakeSeedream();
    assign(fake);
  });
  beforeEach(() => fake?.reset());
  afterAll(() => fake?.close());
}

export function clientFor(fake: FakeSeedream, options: Partial<SeedreamClientOptions> = {}): SeedreamClient {
  return createSeedreamClient({
    apiKey: API_KEY,
    baseUrl: fake.url,
    maxRetries: 0,
    sleep: () => Promise.resolve(),
    // The fake serves `response_format: url` images itself (SEEDREAM_IMAGE_HOSTS in production).
    imageHosts: ["127.0.0.1"],
    ...options,
  });
}

export async function collect(iterable: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const out: GenerationEvent[] = [];
  for await (const event of iterable) out.push(event);
  return out;
}

/** Events with image bytes replaced by their hash, compared against the fake's own images. */
export function hashed(events: GenerationEvent[]) {
  return events.map((event) => (event.type === "image" ? { ...event, bytes: sha256(event.bytes) } : event));
}

export async function fakeHash(fake: FakeSeedream, index: number): Promise<string> {
  return sha256(await fake.imageBytes(index));
}

export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
