/** Injected time and logging, so tests use fakes instead of timers and module mocks. */
import { setTimeout as delay } from "node:timers/promises";

export { type Logger, silentLogger } from "../logger.js";

/** Resolves after `ms`; an abort, before or during the wait, rejects at once (an `AbortError`). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface Clock {
  /** Milliseconds, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });
