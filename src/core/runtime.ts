/** Injected time and logging, so tests use fakes instead of timers and module mocks. */
import { abortableSleep, type Sleep } from "../sleep.js";

export { type Logger, silentLogger } from "../logger.js";
export type { Sleep } from "../sleep.js";

export interface Clock {
  /** Milliseconds, as Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export const realSleep: Sleep = abortableSleep;
