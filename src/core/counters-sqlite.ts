import { stat } from "node:fs/promises";
import sqlite3 from "sqlite3";
import type { CounterLimit, CounterRef, CounterStore, ReserveResult } from "./counters.js";
import { StoreError } from "./errors.js";
import type { Clock } from "./runtime.js";
import { applySqlitePragmas } from "./sqlite-pragmas.js";

/**
 * Counters in a SQLite file beside STORE_URL's (`PATH.counters`), so they survive a restart.
 *
 * Why a file of their own: a transaction holds its file's write lock across several
 * statements, each a round trip through libuv's thread pool. Sharing the store's file, the
 * store's own connection then waited on that lock in pool threads (busy timeout), and with
 * every pool thread waiting the transaction's next statement could not run: runs stalled for
 * whole busy timeouts and failed with SQLITE_BUSY under load. One connection per file never
 * waits on itself. Counters an earlier version kept in the store's file are copied over once.
 *
 * Why `reserve` is atomic: it runs inside `BEGIN IMMEDIATE … COMMIT`. IMMEDIATE takes the
 * database's write lock before the first read, so no other connection — another bot process
 * on the same file included — can write between our check and our update (it waits up to the
 * busy timeout). Inside this process all statements go through one connection, and a promise
 * chain runs one operation at a time on it: a statement from another request can never land
 * inside our transaction.
 */

const TABLE = "seedream_counters";

/** Where the counters of the store at `storePath` live. */
export const countersPath = (storePath: string): string => `${storePath}.counters`;

export async function openSqliteCounters(
  path: string,
  clock: Clock,
  options: { migrateFrom?: string } = {},
): Promise<CounterStore> {
  const fresh = options.migrateFrom !== undefined && !(await exists(path));
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const database = new sqlite3.Database(path, (error) => (error ? reject(error) : resolve(database)));
  }).catch((error: unknown) => {
    throw new StoreError(`Cannot open the quota counters in ${path}: ${String(error)}`, { cause: error });
  });
  db.configure("busyTimeout", 5000);
  const counters = new SqliteCounters(db, clock);
  await counters.init();
  if (fresh && options.migrateFrom !== undefined && (await exists(options.migrateFrom))) {
    await counters.copyFrom(options.migrateFrom);
  }
  return counters;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

class SqliteCounters implements CounterStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: sqlite3.Database,
    private readonly clock: Clock,
  ) {}

  async init(): Promise<void> {
    await this.exclusive(async () => {
      await applySqlitePragmas((sql) => this.run(sql));
      await this.run(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (grp TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (grp, field))`,
      );
      await this.run(`DELETE FROM ${TABLE} WHERE expires_at <= ?`, [this.clock.now()]);
    });
  }

  /** Copies the counters an earlier version kept in the store's file (once, into a new file). */
  async copyFrom(storePath: string): Promise<void> {
    await this.exclusive(async () => {
      await this.run("ATTACH DATABASE ? AS earlier", [storePath]);
      try {
        const tables = await this.all<{ name: string }>(
          "SELECT name FROM earlier.sqlite_master WHERE type = 'table' AND name = ?",
          [TABLE],
        );
        if (tables.length > 0)
          await this.run(
            `INSERT OR IGNORE INTO ${TABLE} SELECT grp, field, value, expires_at FROM earlier.${TABLE} WHERE expires_at > ?`,
            [this.clock.now()],
          );
      } finally {
        await this.run("DETACH DATABASE earlier");
      }
    });
  }

  reserve(counters: readonly CounterLimit[], n: number, ttlMs: number): Promise<ReserveResult> {
    return this.transaction(async () => {
      const values = await this.values(counters);
      const granted = counters.every(
        (counter, i) => counter.limit <= 0 || (values[i] as number) + n <= counter.limit,
      );
      if (!granted) return { granted, values };
      const expiresAt = this.clock.now() + ttlMs;
      for (const [i, counter] of counters.entries()) {
        await this.write(counter, (values[i] as number) + n, expiresAt);
      }
      return { granted, values: values.map((value) => value + n) };
    });
  }

  add(counters: readonly CounterRef[], delta: number, ttlMs: number): Promise<void> {
    return this.transaction(async () => {
      const values = await this.values(counters);
      const expiresAt = this.clock.now() + ttlMs;
      for (const [i, counter] of counters.entries()) {
        await this.write(counter, Math.max(0, (values[i] as number) + delta), expiresAt);
      }
    });
  }

  read(counters: readonly CounterRef[]): Promise<number[]> {
    return this.exclusive(() => this.values(counters));
  }

  readGroup(group: string): Promise<Map<string, number>> {
    return this.exclusive(async () => {
      const rows = await this.all<{ field: string; value: number }>(
        `SELECT field, value FROM ${TABLE} WHERE grp = ? AND expires_at > ?`,
        [group, this.clock.now()],
      );
      return new Map(rows.map((row) => [row.field, row.value]));
    });
  }

  close(): Promise<void> {
    return this.exclusive(
      () =>
        new Promise<void>((resolve, reject) => this.db.close((error) => (error ? reject(error) : resolve()))),
    );
  }

  private async values(counters: readonly CounterRef[]): Promise<number[]> {
    const now = this.clock.now();
    const values: number[] = [];
    for (const counter of counters) {
      const rows = await this.all<{ value: number }>(
        `SELECT value FROM ${TABLE} WHERE grp = ? AND field = ? AND expires_at > ?`,
        [counter.group, counter.field, now],
      );
      values.push(rows[0]?.value ?? 0);
    }
    return values;
  }

  private write(counter: CounterRef, value: number, expiresAt: number): Promise<void> {
    return this.run(
      `INSERT INTO ${TABLE} (grp, field, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (grp, field) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      [counter.group, counter.field, value, expiresAt],
    );
  }

  private transaction<T>(body: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.run("BEGIN IMMEDIATE");
      try {
        const result = await body();
        await this.run("COMMIT");
        return result;
      } catch (error) {
        await this.run("ROLLBACK").catch(() => {});
        throw error;
      }
    });
  }

  /** Runs `operation` alone on the connection: the next one starts when it has settled. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => {});
    return result;
  }

  private run(sql: string, params: unknown[] = []): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, (error) => (error ? reject(storeError(error)) : resolve())),
    );
  }

  private all<T>(sql: string, params: unknown[]): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.db.all<T>(sql, params, (error, rows) => (error ? reject(storeError(error)) : resolve(rows))),
    );
  }
}

function storeError(error: Error): StoreError {
  return new StoreError(`The quota counters could not be updated: ${error.message}`, { cause: error });
}
