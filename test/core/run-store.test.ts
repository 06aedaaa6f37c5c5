import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import KeyvSqlite from "@keyv/sqlite";
import { Redis } from "ioredis";
import Keyv from "keyv";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { missingIndexes, ownerGone, type ProcessInfo } from "../../src/core/run-record.js";
import { planMove } from "../../src/core/run-records.js";
import { KeyvRunRecords } from "../../src/core/run-records-keyv.js";
import { type BotStore, type NewRun, openStore } from "../../src/core/store.js";
import { openBackend } from "../../src/core/store-open.js";
import { describeRedis, redisAvailable, useRedis } from "../helpers/redis-server.js";
import { startReplyDropper } from "../helpers/reply-dropper.js";

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

  it("round-trips fields it does not know, exactly (empty arrays, full-precision numbers)", async () => {
    url = makeUrl();
    await open();
    const extra = {
      reserved: { images: 4, at: 1_764_590_000_123 },
      tags: [] as string[],
      nested: { empty: {}, list: [[], [0.1 + 0.2]], big: 2 ** 53 - 1, tiny: 5e-324 },
    };
    const enqueued = await store.enqueueRun({ ...newRun("x"), ...extra } as NewRun);
    expect(enqueued).toMatchObject(extra);
    expect(await store.getRun("x")).toEqual(enqueued);
    await store.setRunAddress("x", { platform: "slack", channel: "C2", details: {} });
    await store.moveRun("x", "running", { owner: "p" });
    await store.recordImage(image("x", 0));
    const [unfinished] = await store.unfinishedRuns();
    expect(unfinished).toMatchObject({ ...extra, state: "running", attempts: 1, owner: "p" });
    expect(unfinished?.address).toEqual({ platform: "slack", channel: "C2", details: {} });
    const done = await store.moveRun("x", "done");
    expect(done).toMatchObject(extra);
    expect(done?.images).toEqual([image("x", 0)]);
    expect(await store.getRun("x")).toEqual(done);
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

/**
 * Two stores on one Redis, each with its own connections: two bot processes. Every race is
 * fired all at once, so a read-modify-write that is not one atomic step in Redis loses.
 */
describeRedis("run records shared by two processes on one Redis", () => {
  const shared = useRedis();
  let a: BotStore;
  let b: BotStore;
  beforeEach(async () => {
    await shared.flush();
    [a, b] = await Promise.all([
      openStore(shared.url(), { ttlMs: DAY }),
      openStore(shared.url(), { ttlMs: DAY }),
    ]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it("a worker's start and a cancel race: the cancel always lands, and a start after it is refused", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `race-${i}`);
    for (const id of ids) await a.enqueueRun(newRun(id));
    const outcomes = await Promise.all(
      ids.map((id, i) => {
        // Each store starts half the runs and cancels the other half, so whichever connection
        // Redis reads first, both orders happen.
        const [worker, canceller] = i % 2 === 0 ? [a, b] : [b, a];
        return Promise.all([
          worker.moveRun(id, "running", { owner: "worker" }),
          canceller.moveRun(id, "cancelled"),
        ]);
      }),
    );
    let startedFirst = 0;
    for (const [i, [started, cancelled]] of outcomes.entries()) {
      const record = await b.getRun(ids[i] as string);
      // Waiting and running may both be cancelled: the cancel is never lost.
      expect(cancelled?.state).toBe("cancelled");
      expect(record).toEqual(cancelled);
      expect(record?.finishedAt).toBeTypeOf("number");
      expect(record?.owner).toBeUndefined();
      if (started) {
        // The start came first, as one step: its attempt is in the record the cancel finished.
        startedFirst += 1;
        expect(started).toMatchObject({ state: "running", owner: "worker", attempts: 1 });
        expect(record?.attempts).toBe(1);
      } else {
        expect(record?.attempts).toBe(0);
      }
    }
    // Both orders happened (a race, not a sequence), and nothing is left to run.
    expect(startedFirst).toBeGreaterThan(0);
    expect(startedFirst).toBeLessThan(ids.length);
    expect(await a.unfinishedRuns()).toEqual([]);
  });

  it("a cancel and a worker's done race on a running run: exactly one wins, the other changes nothing", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `done-${i}`);
    for (const id of ids) {
      await a.enqueueRun(newRun(id));
      await a.moveRun(id, "running", { owner: "worker-a" });
    }
    const outcomes = await Promise.all(
      ids.map((id) => Promise.all([a.moveRun(id, "done"), b.moveRun(id, "cancelled")])),
    );
    for (const [i, [done, cancelled]] of outcomes.entries()) {
      expect([done, cancelled].filter((won) => won !== undefined)).toHaveLength(1);
      expect(await a.getRun(ids[i] as string)).toEqual(done ?? cancelled);
    }
    expect(await b.unfinishedRuns()).toEqual([]);
  });

  it("two processes finishing one running run (done vs interrupted): one wins, the other changes nothing", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `end-${i}`);
    for (const id of ids) {
      await a.enqueueRun(newRun(id));
      await a.moveRun(id, "running", { owner: "worker-a" });
    }
    const outcomes = await Promise.all(
      ids.map((id) =>
        Promise.all([a.moveRun(id, "done"), b.moveRun(id, "interrupted", { reason: "owner gone" })]),
      ),
    );
    for (const [i, [done, interrupted]] of outcomes.entries()) {
      expect([done, interrupted].filter((won) => won !== undefined)).toHaveLength(1);
      expect(await a.getRun(ids[i] as string)).toEqual(done ?? interrupted);
    }
    expect((await b.unfinishedRuns()).map((run) => run.state).every((state) => state === "interrupted")).toBe(
      true,
    );
  });

  it("enqueues from both at once: unique, increasing queue numbers, and every run in the queue", async () => {
    const runs = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).enqueueRun(newRun(`q-${i}`, `U${i}`))),
    );
    const seqs = runs.map((run) => run.seq);
    expect(new Set(seqs).size).toBe(100);
    const queue = await b.unfinishedRuns();
    expect(queue.map((run) => run.runId).sort()).toEqual(runs.map((run) => run.runId).sort());
    const queued = queue.map((run) => run.seq);
    expect(queued).toEqual([...queued].sort((x, y) => x - y));
    // The numbers keep growing: a later request queues behind all of them.
    const later = await a.enqueueRun(newRun("later"));
    expect(later.seq).toBeGreaterThan(Math.max(...seqs));
    expect((await a.unfinishedRuns()).at(-1)?.runId).toBe("later");
  });

  it("records images of one run from both at once: none is lost", async () => {
    await a.enqueueRun({ ...newRun("many"), params: { n: 15, watermark: false } });
    await a.moveRun("many", "running", { owner: "worker-a" });
    const indexes = Array.from({ length: 15 }, (_, i) => i);
    await Promise.all(indexes.map((i) => (i % 2 === 0 ? a : b).recordImage(image("many", i))));
    const run = await b.getRun("many");
    expect(run?.images.map((delivered) => delivered.index).sort((x, y) => x - y)).toEqual(indexes);
    expect(run).toMatchObject({ state: "running", owner: "worker-a", attempts: 1 });
    // An image recorded again (a retried post) replaces its old entry instead of doubling it.
    await b.recordImage({ ...image("many", 3), postedAt: 5 });
    const again = await a.getRun("many");
    expect(again?.images).toHaveLength(15);
    expect(again?.images.at(-1)).toMatchObject({ index: 3, postedAt: 5 });
  });

  it("a reply lost with its connection: the script ioredis sends again is not applied twice", async () => {
    const dropper = await startReplyDropper(shared.url());
    const store = await openStore(dropper.url(shared.url()), { ttlMs: DAY });
    await store.enqueueRun(newRun("warm"));
    await store.moveRun("warm", "cancelled");
    // Each call below is one EVAL or EVALSHA (ioredis sends EVAL first on a new connection).

    dropper.dropReplyTo("eval");
    const queued = await store.enqueueRun(newRun("q"));
    expect(dropper.dropped).toBe(1);
    expect(queued.seq).toBe(2);
    expect(await a.getRun("q")).toMatchObject({ seq: 2, state: "waiting" });

    dropper.dropReplyTo("eval");
    // Without the token the second run would find the run already running and refuse "its" move.
    expect(await store.moveRun("q", "running", { owner: "p" })).toMatchObject({
      state: "running",
      attempts: 1,
    });
    expect(dropper.dropped).toBe(2);
    expect(await a.getRun("q")).toMatchObject({ state: "running", attempts: 1, owner: "p" });
    expect((await a.unfinishedRuns()).map((run) => [run.runId, run.seq])).toEqual([["q", 2]]);
    expect((await store.enqueueRun(newRun("next"))).seq).toBe(3);
    await store.close();
    await dropper.close();
  });

  it("every key of a run expires its time to live after the run's last change", async () => {
    const store = await openStore(shared.url(), { ttlMs: 60_000 });
    await store.enqueueRun(newRun("ttl"));
    await store.recordImage(image("ttl", 0));
    const admin = new Redis(shared.url());
    await admin.pexpire("seedream-bot:run-record:ttl", 5_000);
    await admin.pexpire("seedream-bot:run-images:ttl", 5_000);
    await store.moveRun("ttl", "running", { owner: "p" });
    for (const key of ["seedream-bot:run-record:ttl", "seedream-bot:run-images:ttl"]) {
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    await admin.quit();
    await store.close();
  });

  it("a status address and an image recorded at once from both: both kept", async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `addr-${i}`);
    for (const id of ids) await a.enqueueRun(newRun(id));
    await Promise.all(
      ids.flatMap((id) => [
        a.setRunAddress(id, { platform: "slack", channel: "C1", statusMessageId: `ts-${id}` }),
        b.recordImage(image(id, 0)),
        b.moveRun(id, "running", { owner: "worker-b" }),
      ]),
    );
    for (const id of ids) {
      const run = await a.getRun(id);
      expect(run?.address?.statusMessageId).toBe(`ts-${id}`);
      expect(run?.images.map((delivered) => delivered.messageId)).toEqual([`F-${id}-0`]);
      expect(run).toMatchObject({ state: "running", owner: "worker-b", attempts: 1 });
    }
  });
});

describeRedis("run records an earlier version kept through keyv in the same Redis", () => {
  const shared = useRedis();

  it("are taken over: queued runs keep their place and move on, finished ones stay readable", async () => {
    await shared.flush();
    // The layout before: keyv values and a queue array, written by the code that used it.
    const backend = await openBackend(shared.url(), { connectTimeoutMs: 5000 });
    const before = new KeyvRunRecords(backend.keyv, DAY);
    for (const id of ["old-done", "old-running", "old-waiting"]) await before.enqueue(newRun(id));
    await before.move("old-done", planMove("running", { owner: "p0" }));
    await before.addImage(image("old-done", 0));
    await before.move("old-done", planMove("done"));
    await before.move("old-running", planMove("running", { owner: "p0" }));
    await before.addImage(image("old-running", 0));
    await backend.close();

    const [a, b] = await Promise.all([
      openStore(shared.url(), { ttlMs: DAY }),
      openStore(shared.url(), { ttlMs: DAY }),
    ]);
    // Both processes recover at once: the runs are taken over once, in their old order.
    const [seenByA, seenByB] = await Promise.all([a.unfinishedRuns(), b.unfinishedRuns()]);
    for (const runs of [seenByA, seenByB])
      expect(runs.map((run) => [run.runId, run.state, run.seq])).toEqual([
        ["old-running", "running", 2],
        ["old-waiting", "waiting", 3],
      ]);
    expect(seenByA[0]?.images.map((delivered) => delivered.messageId)).toEqual(["F-old-running-0"]);
    expect(await a.enqueueRun(newRun("new"))).toMatchObject({ seq: 4 });
    expect(await b.moveRun("old-waiting", "cancelled")).toMatchObject({ state: "cancelled" });
    expect(await a.moveRun("old-running", "interrupted")).toMatchObject({ state: "interrupted" });
    expect((await b.unfinishedRuns()).map((run) => run.runId)).toEqual(["old-running", "new"]);
    expect(await a.getRun("old-done")).toMatchObject({ state: "done", images: [image("old-done", 0)] });
    await Promise.all([a.close(), b.close()]);
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
