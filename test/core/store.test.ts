import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import { type BotStore, type ImageRecord, openStore } from "../../src/core/store.js";
import { describeRedis, useRedis } from "../helpers/redis-server.js";

const DAY = 24 * 60 * 60 * 1000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "seedream-store-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const params = { n: 2, watermark: false, model: "doubao-seedream-4-5-251128" };
const image = (messageId: string, index: number, runId = "run-1"): ImageRecord => ({
  platform: "slack",
  conversationId: "C1:1700000000.000100",
  messageId,
  ref: `F-${messageId}`,
  fileName: `seedream-${index + 1}.jpg`,
  mimeType: "image/jpeg",
  runId,
  index,
  prompt: "两只猫 in the snow",
  params,
  postedAt: 1_700_000_000_000 + index,
});

async function recordTwoImages(store: BotStore): Promise<void> {
  await store.recordRun({
    runId: "run-1",
    platform: "slack",
    conversationId: "C1:1700000000.000100",
    userId: "U1",
    prompt: "两只猫 in the snow",
    params,
    createdAt: 1_700_000_000_000,
  });
  // Posted out of order: image 2/2 arrived first.
  await store.recordImage(image("m-b", 1));
  await store.recordImage(image("m-a", 0));
}

async function expectRoundTrip(store: BotStore): Promise<void> {
  expect(await store.findImage("slack", "m-b")).toEqual(image("m-b", 1));
  expect(await store.findImage("discord", "m-b")).toBeUndefined();
  const run = await store.getRun("run-1");
  expect(run?.images.map((record) => record.messageId)).toEqual(["m-b", "m-a"]);
  expect(run?.prompt).toBe("两只猫 in the snow");
  const latest = await store.latestRun("slack", "C1:1700000000.000100");
  expect(latest?.runId).toBe("run-1");
  expect(await store.latestRun("slack", "C1:other")).toBeUndefined();
}

interface Backend {
  /** A fresh, empty store location for one test. */
  url(): string;
  /** Whether a second open of the same URL sees the first one's records (a restart). */
  durable: boolean;
}

/** The behaviour every STORE_URL scheme must have, through the same port. */
function storeContract(backend: Backend): void {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("round-trips images and runs", async () => {
    const store = await openStore(backend.url(), { ttlMs: 30 * DAY });
    await recordTwoImages(store);
    await expectRoundTrip(store);
    await store.ping();
    await store.close();
  });

  if (backend.durable)
    it("keeps records and dedupe marks across a restart", async () => {
      const url = backend.url();
      const first = await openStore(url, { ttlMs: 30 * DAY });
      await recordTwoImages(first);
      expect(await first.seen("event:Ev1")).toBe(false);
      await first.close();

      const second = await openStore(url, { ttlMs: 30 * DAY });
      await expectRoundTrip(second);
      expect(await second.seen("event:Ev1")).toBe(true);
      await second.close();
    });

  it("forgets records after the TTL", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    const store = await openStore(backend.url(), { ttlMs: 30 * DAY });
    await recordTwoImages(store);
    vi.setSystemTime(new Date("2025-01-30T00:00:00Z"));
    expect(await store.findImage("slack", "m-a")).toBeDefined();
    vi.setSystemTime(new Date("2025-02-01T00:00:00Z"));
    expect(await store.findImage("slack", "m-a")).toBeUndefined();
    expect(await store.latestRun("slack", "C1:1700000000.000100")).toBeUndefined();
    await store.close();
  });

  it("dedupes: two concurrent deliveries of one event, exactly one passes", async () => {
    const store = await openStore(backend.url(), { ttlMs: DAY });
    const results = await Promise.all([
      store.seen("C1:123.456"),
      store.seen("C1:123.456"),
      store.seen("C1:123.456"),
    ]);
    expect(results.filter((seen) => !seen)).toHaveLength(1);
    expect(await store.seen("C1:999.000")).toBe(false);
    await store.close();
  });

  it("dedupe entries expire after their own TTL", async () => {
    const store = await openStore(backend.url(), { ttlMs: 30 * DAY });
    expect(await store.seen("Ev2", 300)).toBe(false);
    expect(await store.seen("Ev2", 300)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await store.seen("Ev2", 300)).toBe(false);
    await store.close();
  });
}

describe("store on memory://", () => {
  storeContract({ url: () => "memory://", durable: false });
});

describe("store on sqlite://", () => {
  storeContract({ url: () => `sqlite://${join(dir, `${randomUUID()}.sqlite`)}`, durable: true });
});

describeRedis("store on redis://", () => {
  const redis = useRedis();
  afterEach(async () => {
    const admin = new Redis(redis.url());
    await admin.flushdb();
    await admin.quit();
  });
  storeContract({ url: () => redis.url(), durable: true });

  it("dedupes across processes: two stores on one Redis, one event, exactly one passes", async () => {
    const [a, b] = await Promise.all([
      openStore(redis.url(), { ttlMs: DAY }),
      openStore(redis.url(), { ttlMs: DAY }),
    ]);
    const results = await Promise.all([
      a.seen("slack:event:Ev9"),
      b.seen("slack:event:Ev9"),
      a.seen("slack:event:Ev9"),
      b.seen("slack:event:Ev9"),
    ]);
    expect(results.filter((seen) => !seen)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });
});

describe("store start-up errors", () => {
  it("names STORE_URL when the scheme is unknown", async () => {
    const error = await openStore("postgres://localhost:5432", { ttlMs: DAY }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toMatch(
      /^Cannot open the store at STORE_URL=postgres:\/\/localhost:5432: it must start with/,
    );
  });

  it("names STORE_URL when the directory cannot be created", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "not a directory");
    const url = `sqlite://${join(file, "sub", "bot.sqlite")}`;
    const error = await openStore(url, { ttlMs: DAY }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(`STORE_URL=${url}`);
    expect((error as StoreError).message).toContain("cannot create the directory");
  });

  it("names STORE_URL when the file is not a database", async () => {
    const file = join(dir, "notes.txt");
    await writeFile(file, "these are notes, not an sqlite database ".repeat(100));
    const error = await openStore(`sqlite://${file}`, { ttlMs: DAY }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(`STORE_URL=sqlite://${file}`);
    expect((error as StoreError).message).toMatch(/not a database/i);
  });
});
