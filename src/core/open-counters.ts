import { type CounterStore, MemoryCounters } from "./counters.js";
import { openRedisCounters } from "./counters-redis.js";
import { countersPath, openSqliteCounters } from "./counters-sqlite.js";
import { StoreError } from "./errors.js";
import { type Clock, systemClock } from "./runtime.js";
import { isRedisUrl } from "./store-open.js";
import { redactUrl } from "./store-url.js";

export interface OpenCountersOptions {
  clock?: Clock;
}

/**
 * The quota counters beside the store named by STORE_URL: memory://, sqlite://PATH (in
 * PATH.counters beside it) or redis://HOST:PORT[/DB] (the same Redis, shared by every process).
 */
export async function openCounters(url: string, options: OpenCountersOptions = {}): Promise<CounterStore> {
  const clock = options.clock ?? systemClock;
  if (url === "memory://") return new MemoryCounters(clock);
  if (url.startsWith("sqlite://")) {
    const path = url.slice("sqlite://".length);
    return openSqliteCounters(countersPath(path), clock, { migrateFrom: path });
  }
  if (isRedisUrl(url)) return openRedisCounters(url, clock);
  throw new StoreError(
    `Cannot keep quota counters at STORE_URL=${redactUrl(url)}: use memory://, sqlite://PATH or redis://HOST:PORT.`,
  );
}
