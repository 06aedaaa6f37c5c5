import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { ownerGone, type ProcessInfo, pidAlive } from "./run-record.js";
import type { Logger } from "./runtime.js";
import type { BotStore } from "./store.js";

/**
 * This process's claim on the runs it executes: an id stamped on each running run and a
 * heartbeat in the store, so a restarted bot (or, with a shared store, another process) can tell
 * a run whose process is gone from one still going.
 */

export const LEASE_DEFAULTS = {
  /** How often the heartbeat is renewed. */
  heartbeatMs: 10_000,
  /** A heartbeat older than this (from another host) means its process is gone. */
  staleMs: 30_000,
} as const satisfies { heartbeatMs: number; staleMs: number };

export interface ProcessLease {
  readonly info: ProcessInfo;
  /** Writes the first heartbeat and keeps renewing it until `stop`. */
  start(): Promise<void>;
  /** Whether the process that owns (owned) a run is gone. */
  ownerGone(owner: string | undefined): Promise<boolean>;
  stop(): void;
}

export function createProcessLease(
  store: BotStore,
  logger: Logger,
  options: { heartbeatMs?: number; staleMs?: number; now?: () => number } = {},
): ProcessLease {
  const heartbeatMs = options.heartbeatMs ?? LEASE_DEFAULTS.heartbeatMs;
  const staleMs = options.staleMs ?? LEASE_DEFAULTS.staleMs;
  const now = options.now ?? Date.now;
  const info: ProcessInfo = {
    id: randomUUID(),
    pid: process.pid,
    host: hostname(),
    startedAt: now(),
    beatAt: now(),
  };
  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    info.beatAt = now();
    await store.heartbeat({ ...info }, staleMs);
  };
  return {
    info,
    async start() {
      await beat();
      timer = setInterval(() => {
        beat().catch((error: unknown) => logger.warn("could not renew the process heartbeat", { error }));
      }, heartbeatMs);
      timer.unref();
    },
    async ownerGone(owner) {
      if (owner === undefined || owner === info.id) return owner === undefined;
      const heartbeat = await store.processInfo(owner);
      return ownerGone(owner, heartbeat, info, { now: now(), staleMs, pidAlive });
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
