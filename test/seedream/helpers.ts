import { afterAll, beforeAll, beforeEach } from "vitest";
import type { SeedreamClient, SeedreamClientOptions } from "../../src/seedream/client.js";
import { createSeedreamClient } from "../../src/seedream/client.js";
import type { TranslateContext } from "../../src/seedream/events.js";
import type { GenerationEvent } from "../../src/seedream/types.js";
import { sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";

export const API_KEY = "sk-test-7f3a9c2e51d84b06";

/** What eventsFromSse needs, for tests that feed it recorded bytes (no downloads). */
export const translateContext: TranslateContext = {
  status: 200,
  requestIdHeader: undefined,
  model: "doubao-seedream-4-5-251128",
  secrets: [],
  download: () => Promise.reject(new Error("no downloads in these tests")),
};

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
