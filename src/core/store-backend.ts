import type Keyv from "keyv";
import type { RunRecords } from "./run-records.js";

/**
 * What one STORE_URL scheme provides to the store: a keyv for records and the few operations
 * keyv cannot express. Memory and sqlite live in one process; Redis is shared by many.
 */
export interface StoreBackend {
  keyv: Keyv;
  /**
   * Marks `key` for `ttlMs` and says whether this call was the first: atomic across every
   * process sharing the backend. Absent where only one process can use the backend.
   */
  claim?(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Run records kept with the backend's own atomic operations, shared safely by every process;
   * absent where keyv with in-process locks is enough (one process).
   */
  runRecords?(ttlMs: number): RunRecords;
  /** Resolves when the backend answers; rejects with why not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
