import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import KeyvSqlite from "@keyv/sqlite";
import Keyv from "keyv";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { missingIndexes, ownerGone, type ProcessInfo } from "../../src/core/run-record.js";
import { type BotStore, type NewRun, openStore } from "../../src/core/store.js";
import { redisAvailable, useRedis } from "../helpers/redis-server.js";

const DAY = 24 * 60 * 60 * 1000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "seedream-runs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.useRealTimers();
});

const newRun = (runId: string, userId = "U1"): NewRun => ({
  runId,
  platform: "slack",
  conversationId: "C1:1700000000.000100",
  userId,
  userName: "Ada",
  prompt: "a fox in the snow",
  params: { n: 3, watermark: false, model: "doubao-seedream-4-5-251128", size: "2K", seed: 7 },
  createdAt: 1_700_000_000_000,
  address: { platform: "slack", channel: "C1", thread: "1700000000.000100" },
  references: [
    { kind: "stored", platform: "slack", messageId: "F-earlier" },
    { kind: "file", platform: "slack", name: "cat.png", contentType: "image/png", locator: { fileId: "F9" } },
  ],
});

const image = (runId: string, index: number) => ({
  platform: "slack",
  conversationId: "C1:1700000000.000100",
  messageId: `F-${runId}-${index}`,
  ref: `F-${runId}-${index}`,
  fileName: `seedream-${index + 1}.jpg`,
  mimeType: "image/jpeg",
  runId,
  index,
  prompt: "a fox in the snow",
  params: { n: 3, watermark: false },
  postedAt: 1_700_000_000_000 + index,
});

const backends: Array<[string, () => string]> = [
  ["memory://", () => "memory://"],
  ["sqlite://", () => `sqlite://${join(dir, `runs-${Math.random().toString(36).slice(2)}.sqlite`)}`],
];
// The same records on Redis, when this run has one (the global setup says loudly when not).
const redis = redisAvailable ? useRedis() : undefined;
if (redis) backends.push(["redis://", () => redis.url()]);

describe.each(backends)("durable run records on %s", (name, makeUrl) => {
  // One Redis database for the suite: each test starts from an empty one.
  if (name === "redis://") beforeEach(() => redis?.flush());
  let url: string;
  let store: BotStore;
  const open = async () => {
    store = await openStore(url, { ttlMs: 30 * DAY });
    return store;
  };
  beforeAll(() => {
    url = makeUrl();
  });
  afterEach(async () => {
    await store?.close();
  });

  it("records an accepted request as waiting, with everything needed to run it again", async () => {
    url = makeUrl();
    await open();
    const record = await store.enqueueRun(newRun("r1"));
    expect(record).toMatchObject({ state: "waiting", attempts: 0, images: [] });
    expect(await store.getRun("r1")).toEqual(record);
    expect(record.references).toEqual(newRun("r1").references);
    expect(record.address).toEqual({ platform: "slack", channel: "C1", thread: "1700000000.000100" });
    expect(record.params).toEqual(newRun("r1").params);
  });

  it("keeps the queue in order and moves runs through the state machine", async () => {
    url = makeUrl();
    await open();
    for (const id of ["a", "b", "c"]) await store.enqueueRun(newRun(id, `U-${id}`));
    expect((await store.unfinishedRuns()).map((run) => run.runId)).toEqual(["a", "b", "c"]);

    const running = await store.moveRun("a", "running", { owner: "proc-1" });
    expect(running).toMatchObject({ state: "running", attempts: 1, owner: "proc-1" });
    await store.recordImage(image("a", 0));
    await store.setRunAddress("a", {
      platform: "slack",
      channel: "C1",
      thread: "1700000000.000100",
      statusMessageId: "1700000000.000200",
    });
    const done = await store.moveRun("a", "done");
    expect(done).toMatchObject({ state: "done", attempts: 1 });
    expect(done?.owner).toBeUndefined();
    expect(done?.finishedAt).toBeTypeOf("number");
    expect(done?.images.map((delivered) => [delivered.index, delivered.messageId])).toEqual([[0, "F-a-0"]]);
    expect(done?.address?.statusMessageId).toBe("1700000000.000200");

    // A finished run goes nowhere else; a cancelled waiting run cannot start any more.
    expect(await store.moveRun("a", "running")).toBeUndefined();
    expect(await store.moveRun("b", "cancelled")).toMatchObject({ state: "cancelled" });
    expect(await store.moveRun("b", "running")).toBeUndefined();
    expect((await store.getRun("b"))?.state).toBe("cancelled");
    // Not allowed by the state machine: waiting cannot be done without running.
    expect(await store.moveRun("c", "done")).toBeUndefined();
    expect(await store.moveRun("missing", "running")).toBeUndefined();
    expect((await store.unfinishedRuns()).map((run) => run.runId)).toEqual(["c"]);
  });

  it("resumes an interrupted run at its old place in line, and gives it up for good", async () => {
    url = makeUrl();
    await open();
    for (const id of ["first", "second"]) await store.enqueueRun(newRun(id, `U-${id}`));
    await store.moveRun("first", "running", { owner: "gone" });
    await store.recordImage(image("first", 0));
    expect(await store.moveRun("first", "interrupted", { reason: "owner gone" })).toMatchObject({
      state: "interrupted",
      reason: "owner gone",
    });
    await store.enqueueRun(newRun("third", "U-third"));

    const resumed = await store.moveRun("first", "waiting", { resumed: true });
    expect(resumed).toMatchObject({ state: "waiting", resumed: true, attempts: 1 });
    expect((await store.unfinishedRuns()).map((run) => run.runId)).toEqual(["first", "second", "third"]);
    expect(await store.moveRun("first", "running", { owner: "me" })).toMatchObject({ attempts: 2 });
    await store.moveRun("first", "interrupted");
    expect(await store.moveRun("first", "interrupted")).toBeUndefined();
    const givenUp = await store.moveRun("first", "interrupted", { finished: true });
    expect(givenUp).toMatchObject({ state: "interrupted", attempts: 2 });
    expect(givenUp?.finishedAt).toBeTypeOf("number");
    expect(await store.moveRun("first", "waiting")).toBeUndefined();
    expect((await store.unfinishedRuns()).map((run) => run.runId)).toEqual(["second", "third"]);
    expect((await store.getRun("first"))?.images.map((delivered) => delivered.index)).toEqual([0]);
  });

  it("serialises concurrent changes: one of two racing moves wins", async () => {
    url = makeUrl();
    await open();
    await store.enqueueRun(newRun("race"));
    await store.moveRun("race", "running", { owner: "p" });
    const [done, cancelled] = await Promise.all([
      store.moveRun("race", "done"),
      store.moveRun("race", "cancelled"),
    ]);
    expect(done?.state).toBe("done");
    expect(cancelled).toBeUndefined();
    const enqueued = await Promise.all(["q1", "q2", "q3", "q4"].map((id) => store.enqueueRun(newRun(id))));
    expect(new Set(enqueued.map((run) => run.seq)).size).toBe(4);
    expect((await store.unfinishedRuns()).map((run) => run.runId)).toEqual(["q1", "q2", "q3", "q4"]);
  });

  it("keeps heartbeats only for their time to live", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2025-01-01T00:00:00Z"));
    url = makeUrl();
    await open();
    const info: ProcessInfo = { id: "p-1", pid: 4242, host: "h", startedAt: 1, beatAt: Date.now() };
    await store.heartbeat(info, 30_000);
    vi.setSystemTime(new Date("2025-01-01T00:00:29Z"));
    expect(await store.processInfo("p-1")).toEqual(info);
    vi.setSystemTime(new Date("2025-01-01T00:00:31Z"));
    expect(await store.processInfo("p-1")).toBeUndefined();
  });
});

describe("durable run records across a restart", () => {
  it("keeps waiting and running runs, their order and deliveries in sqlite", async () => {
    const url = `sqlite://${join(dir, "restart.sqlite")}`;
    const first = await openStore(url, { ttlMs: 30 * DAY });
    await first.enqueueRun(newRun("running-one", "A"));
    await first.enqueueRun(newRun("waiting-one", "B"));
    await first.moveRun("running-one", "running", { owner: "old-process" });
    await first.recordImage(image("running-one", 0));
    await first.close();

    const second = await openStore(url, { ttlMs: 30 * DAY });
    const runs = await second.unfinishedRuns();
    expect(runs.map((run) => [run.runId, run.state, run.owner])).toEqual([
      ["running-one", "running", "old-process"],
      ["waiting-one", "waiting", undefined],
    ]);
    expect(runs[0]?.images.map((delivered) => delivered.messageId)).toEqual(["F-running-one-0"]);
    // New requests queue behind the old ones.
    await second.enqueueRun(newRun("new-one", "C"));
    expect((await second.unfinishedRuns()).map((run) => run.runId)).toEqual([
      "running-one",
      "waiting-one",
      "new-one",
    ]);
    await second.close();
  });

  it("reads a run recorded before runs were durable as a finished run", async () => {
    const path = join(dir, "old.sqlite");
    const keyv = new Keyv({ store: new KeyvSqlite({ uri: `sqlite://${path}` }), namespace: "seedream-bot" });
    await keyv.set("run:old", {
      runId: "old",
      platform: "slack",
      conversationId: "C1",
      userId: "U1",
      prompt: "p",
      params: { n: 1, watermark: false },
      createdAt: 5,
      images: [],
    });
    await keyv.disconnect();
    const store = await openStore(`sqlite://${path}`, { ttlMs: DAY });
    expect(await store.getRun("old")).toMatchObject({ state: "done", attempts: 1, references: [] });
    expect(await store.unfinishedRuns()).toEqual([]);
    await store.close();
  });
});

describe("whether a run's process is gone", () => {
  const me: ProcessInfo = { id: "me", pid: 100, host: hostname(), startedAt: 0, beatAt: 10_000 };
  const options = (alive: number[] = []) => ({
    now: 10_000,
    staleMs: 30_000,
    pidAlive: (pid: number) => alive.includes(pid),
  });
  const beat = (fields: Partial<ProcessInfo>): ProcessInfo => ({
    id: "other",
    pid: 200,
    host: me.host,
    startedAt: 0,
    beatAt: 9_000,
    ...fields,
  });

  it("is not gone when it is this process", () => {
    expect(ownerGone("me", me, me, options())).toBe(false);
  });
  it("is gone without an owner or without a heartbeat", () => {
    expect(ownerGone(undefined, undefined, me, options())).toBe(true);
    expect(ownerGone("other", undefined, me, options([200]))).toBe(true);
  });
  it("is gone at once when its pid on this host is dead, or is now ours (a restarted container)", () => {
    expect(ownerGone("other", beat({}), me, options([]))).toBe(true);
    expect(ownerGone("other", beat({ pid: 100 }), me, options([100]))).toBe(true);
    expect(ownerGone("other", beat({}), me, options([200]))).toBe(false);
  });
  it("on another host, is gone only when its heartbeat is stale", () => {
    expect(ownerGone("other", beat({ host: "elsewhere" }), me, options())).toBe(false);
    expect(ownerGone("other", beat({ host: "elsewhere", beatAt: -25_000 }), me, options())).toBe(true);
  });
});

describe("what a continuation makes", () => {
  it("lists the image indexes no delivered image has", () => {
    expect(missingIndexes(3, [0])).toEqual([1, 2]);
    expect(missingIndexes(4, [2, 0])).toEqual([1, 3]);
    expect(missingIndexes(2, [0, 1])).toEqual([]);
  });
});
