import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sqlite3 from "sqlite3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CounterStore } from "../../src/core/counters.js";
import { openSqliteCounters } from "../../src/core/counters-sqlite.js";
import { StoreUnavailableError } from "../../src/core/errors.js";
import { STORE_UNAVAILABLE } from "../../src/core/messages.js";
import { openCounters } from "../../src/core/open-counters.js";
import { openStore } from "../../src/core/store.js";
import {
  describeRedis,
  describeRedisServer,
  redisAvailable,
  startRedisServer,
  useRedis,
} from "../helpers/redis-server.js";

const DAY = 24 * 60 * 60 * 1000;

function journalMode(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path, (error) => {
      if (error) reject(error);
      else
        db.get<{ journal_mode: string }>("PRAGMA journal_mode", (failure, row) => {
          db.close();
          if (failure) reject(failure);
          else resolve(row?.journal_mode ?? "");
        });
    });
  });
}
let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "seedream-counters-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const clock = { t: 1_800_000_000_000, now: () => clock.t };
const user = { group: "day:2027-01-15:slack", field: "user:U1" };
const team = { group: "day:2027-01-15:slack:T1", field: "total" };

// The same contract on Redis, when this run has one (the global setup says loudly when not).
const redis = redisAvailable ? useRedis() : undefined;

const backends: Array<[string, () => string]> = [
  ["memory://", () => "memory://"],
  ["sqlite://", () => `sqlite://${join(dir, `counters-${++files}.sqlite`)}`],
];
if (redis) backends.push(["redis://", () => redis.url()]);

describe.each(backends)("counters on %s", (name, url) => {
  if (name === "redis://") beforeEach(() => redis?.flush());
  let counters: CounterStore;
  const open = async (at = url()) => {
    counters = await openCounters(at, { clock });
    return counters;
  };

  it("reserves while every counter stays within its limit, and reports the new values", async () => {
    await open();
    expect(
      await counters.reserve(
        [
          { ...user, limit: 3 },
          { ...team, limit: 10 },
        ],
        2,
        DAY,
      ),
    ).toEqual({
      granted: true,
      values: [2, 2],
    });
    expect(await counters.reserve([{ ...user, limit: 3 }], 1, DAY)).toEqual({ granted: true, values: [3] });
    await counters.close();
  });

  it("changes nothing when any one counter would pass its limit", async () => {
    await open();
    await counters.reserve([{ ...team, limit: 0 }], 9, DAY);
    const refused = await counters.reserve(
      [
        { ...user, limit: 3 },
        { ...team, limit: 10 },
      ],
      2,
      DAY,
    );
    expect(refused).toEqual({ granted: false, values: [0, 9] });
    expect(await counters.read([user, team])).toEqual([0, 9]);
    await counters.close();
  });

  it("lets exactly as many concurrent requests through as the limit allows", async () => {
    await open();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => counters.reserve([{ ...user, limit: 3 }], 1, DAY)),
    );
    expect(results.filter((result) => result.granted)).toHaveLength(3);
    expect(await counters.read([user])).toEqual([3]);
    await counters.close();
  });

  it("gives back without going below zero, and lists a group's counters", async () => {
    await open();
    await counters.reserve(
      [
        { ...user, limit: 0 },
        { group: user.group, field: "user:U2" },
      ].map((c) => ({ ...c, limit: 0 })),
      4,
      DAY,
    );
    await counters.add([user], -3, DAY);
    await counters.add([{ group: user.group, field: "user:U2" }], -10, DAY);
    expect(Object.fromEntries(await counters.readGroup(user.group))).toEqual({ "user:U1": 1, "user:U2": 0 });
    expect((await counters.readGroup("day:1999-01-01:slack")).size).toBe(0);
    await counters.close();
  });

  it("forgets counters once their time to live has passed", async () => {
    await open();
    await counters.reserve([{ ...user, limit: 0 }], 5, DAY);
    clock.t += DAY + 1;
    expect(await counters.read([user])).toEqual([0]);
    expect(await counters.reserve([{ ...user, limit: 3 }], 3, DAY)).toEqual({ granted: true, values: [3] });
    await counters.close();
  });
});

describe("sqlite counters", () => {
  it("survive closing and reopening the file", async () => {
    const url = `sqlite://${join(dir, "restart.sqlite")}`;
    const first = await openCounters(url, { clock });
    await first.reserve([{ ...user, limit: 3 }], 2, DAY);
    await first.close();
    const second = await openCounters(url, { clock });
    expect(await second.read([user])).toEqual([2]);
    expect((await second.reserve([{ ...user, limit: 3 }], 2, DAY)).granted).toBe(false);
    await second.close();
  });

  it("stay atomic between two connections to one file (two bot processes)", async () => {
    const url = `sqlite://${join(dir, "two-processes.sqlite")}`;
    const a = await openCounters(url, { clock });
    const b = await openCounters(url, { clock });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).reserve([{ ...user, limit: 5 }], 1, DAY)),
    );
    expect(results.filter((result) => result.granted)).toHaveLength(5);
    expect(await b.read([user])).toEqual([5]);
    await Promise.all([a.close(), b.close()]);
  });

  it("keep to a file of their own: the store's writes and quota reservations at once never wait on each other", {
    timeout: 20_000,
  }, async () => {
    const url = `sqlite://${join(dir, "busy.sqlite")}`;
    const store = await openStore(url, { ttlMs: DAY });
    const counters = await openCounters(url, { clock });
    // What 50 runs starting at once do: reserve, record, move, give back. On one file the
    // store's connection waited on the counters' write lock in every pool thread and both
    // failed with SQLITE_BUSY after the busy timeout.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, async (_, i) => {
        await counters.reserve([{ ...user, limit: 0 }], 2, DAY);
        await store.enqueueRun({
          runId: `busy-${i}`,
          platform: "slack",
          conversationId: "C1",
          userId: `U${i}`,
          prompt: "a fox",
          params: { n: 2, watermark: false },
          createdAt: 1,
        });
        await store.moveRun(`busy-${i}`, "running", { owner: "p" });
        await counters.add([user], -1, DAY);
        await store.moveRun(`busy-${i}`, "done");
      }),
    );
    expect(outcomes.filter((outcome) => outcome.status === "rejected")).toEqual([]);
    expect(await counters.read([user])).toEqual([50]);
    await Promise.all([store.close(), counters.close()]);
  });

  it("open the store's file and their own in write-ahead-log mode, so a burst of writes pays no fsync each", async () => {
    const path = join(dir, "wal.sqlite");
    const store = await openStore(`sqlite://${path}`, { ttlMs: DAY });
    const counters = await openCounters(`sqlite://${path}`, { clock });
    await Promise.all([store.close(), counters.close()]);
    // The mode is kept in the file itself: what any later connection, or process, finds.
    for (const file of [path, `${path}.counters`]) expect(await journalMode(file)).toBe("wal");
  });

  it("open when several processes start on one new file at the same moment", async () => {
    // Switching a new file to WAL takes an exclusive lock, which SQLite refuses at once (no busy
    // timeout) to all but one of the connections asking at the same moment.
    for (let round = 0; round < 10; round++) {
      const url = `sqlite://${join(dir, `together-${round}.sqlite`)}`;
      const opened = await Promise.all([
        openStore(url, { ttlMs: DAY }),
        openStore(url, { ttlMs: DAY }),
        openCounters(url, { clock }),
        openCounters(url, { clock }),
      ]);
      await Promise.all(opened.map((one) => one.close()));
    }
  });

  it("take over the counters an earlier version kept in the store's own file", async () => {
    const path = join(dir, "upgrade.sqlite");
    const earlier = await openSqliteCounters(path, clock);
    await earlier.reserve([{ ...user, limit: 0 }], 3, DAY);
    await earlier.close();
    const counters = await openCounters(`sqlite://${path}`, { clock });
    expect(await counters.read([user])).toEqual([3]);
    await counters.reserve([{ ...user, limit: 0 }], 1, DAY);
    await counters.close();
    // Copied once: reopening reads the new file, not the old table again.
    const again = await openCounters(`sqlite://${path}`, { clock });
    expect(await again.read([user])).toEqual([4]);
    await again.close();
  });

  it("names the store it cannot use", async () => {
    await expect(openCounters("postgres://localhost")).rejects.toThrow(/STORE_URL=postgres:\/\/localhost/);
  });
});

describeRedis("redis counters", () => {
  it("stay atomic between two connections to one Redis (two bot processes), and survive a reconnect", async () => {
    await redis?.flush();
    const url = redis?.url() ?? "";
    const a = await openCounters(url, { clock });
    const b = await openCounters(url, { clock });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).reserve([{ ...user, limit: 5 }], 1, DAY)),
    );
    expect(results.filter((result) => result.granted)).toHaveLength(5);
    await Promise.all([a.close(), b.close()]);
    const again = await openCounters(url, { clock });
    expect(await again.read([user])).toEqual([5]);
    await again.close();
  });
});

describeRedisServer("redis counters when Redis is lost", () => {
  it("answer 'the state store is unavailable' at once, and count again once Redis is back", async () => {
    const server = await startRedisServer();
    try {
      const counters = await openCounters(server.url, { clock });
      await counters.reserve([{ ...user, limit: 3 }], 1, DAY);
      await server.stop({ kill: true });
      const started = Date.now();
      const failure = await counters
        .reserve([{ ...user, limit: 3 }], 1, DAY)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as StoreUnavailableError).userMessage).toBe(STORE_UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(1000);
      await server.start();
      let answer: unknown;
      for (let tries = 0; tries < 50; tries++) {
        answer = await counters.reserve([{ ...user, limit: 3 }], 1, DAY).catch((error: unknown) => error);
        if (!(answer instanceof Error)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Redis came back empty (no persistence in the test server): counting starts again.
      expect(answer).toEqual({ granted: true, values: [1] });
      await counters.close();
    } finally {
      await server.dispose();
    }
  });
});
