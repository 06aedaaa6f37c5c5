import { setTimeout as delay } from "node:timers/promises";

/**
 * How the bot's SQLite files are opened (the store and the quota counters).
 *
 * WAL: a write appends to a log instead of copying pages into a rollback journal first, and
 * readers never wait for a writer. With `synchronous = NORMAL` a commit costs no fsync (the log
 * is synced at checkpoints), which is what makes a burst of 50 requests cheap: 200 concurrent
 * keyv writes took 140–155 ms in the default mode and 13–15 ms in this one (2026-12-01, on the
 * CI machine's disk).
 * Durability: a crashed or killed process (kill -9, OOM, a deploy) loses nothing committed; only
 * an OS crash or power loss may roll back the last transactions, and it never corrupts the file.
 * WAL needs the file on a local disk (not NFS): it keeps `PATH-wal` and `PATH-shm` beside it.
 */
export const SQLITE_PRAGMAS = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"] as const;

export const SQLITE_PRAGMA_DEFAULTS = {
  /** Tries of a pragma SQLite answers SQLITE_BUSY, a little longer apart each time (~2 s in all). */
  busyTries: 20,
  busyStepMs: 10,
} as const satisfies Record<string, number>;

/**
 * Runs the pragmas on a fresh connection. Switching a file to WAL takes an exclusive lock, and
 * SQLite answers SQLITE_BUSY at once, without its busy timeout, when two connections try at the
 * same moment (two processes starting on one new file; a store and its counters): the loser
 * tries again, and by then the file is usually in WAL already, which needs no lock to confirm.
 */
export async function applySqlitePragmas(run: (sql: string) => Promise<unknown>): Promise<void> {
  for (const pragma of SQLITE_PRAGMAS) {
    for (let attempt = 1; ; attempt++) {
      try {
        await run(pragma);
        break;
      } catch (error) {
        if (!isBusy(error) || attempt >= SQLITE_PRAGMA_DEFAULTS.busyTries) throw error;
        await delay(SQLITE_PRAGMA_DEFAULTS.busyStepMs * attempt);
      }
    }
  }
}

/** SQLite's own error, or one of ours wrapping it (`cause`). */
function isBusy(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; typeof at === "object" && at !== null && depth < 3; depth++) {
    if ((at as { code?: unknown }).code === "SQLITE_BUSY") return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}
