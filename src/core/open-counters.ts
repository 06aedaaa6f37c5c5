import { type CounterStore, MemoryCounters } from "./counters.js";
import { openSqliteCounters } from "./counters-sqlite.js";
import { StoreError } from "./errors.js";
import { type Clock, systemClock } from "./runtime.js";

export interface OpenCountersOptions {
  clock?: Clock;
}

/** The quota counters beside the store named by STORE_URL: memory:// or sqlite://PATH (the same file). */
export async function openCounters(url: string, options: OpenCountersOptions = {}): Promise<CounterStore> {
  const clock = options.clock ?? systemClock;
  if (url === "memory://") return new MemoryCounters(clock);
  if (url.startsWith("sqlite://")) return openSqliteCounters(url.slice("sqlite://".length), clock);
  throw new StoreError(`Cannot keep quota counters at STORE_URL=${url}: use memory:// or sqlite://PATH.`);
}
