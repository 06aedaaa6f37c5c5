/**
 * What the core reports about the requests it answers, in its own words. The composition root
 * turns these calls into Prometheus metrics and the audit log line (`src/ops/run-observer.ts`);
 * the core never sees prom-client, prices or log formats. Platforms, outcomes and error codes
 * are bounded values; user ids and prompts only ever reach the audit line, never a metric.
 */

/** How a request for images ended. `interrupted`: cut short by a shutdown (the next process continues it). */
export type RunOutcome = "completed" | "failed" | "cancelled" | "rejected" | "interrupted";

export type ImageOutcome = "delivered" | "blocked" | "failed";

/** A run that got as far as being recorded, at its end in this process. */
export interface RunSummary {
  runId: string;
  platform: string;
  userId: string;
  teamId?: string;
  /** The model id sent to Seedream. */
  model: string;
  /** Images asked for. */
  asked: number;
  /** Delivered in all (earlier attempts of a continued run included). */
  delivered: number;
  blocked: number;
  failed: number;
  outcome: RunOutcome;
  /** From this process taking the run up to its end. */
  durationMs: number;
  /** Why it failed, when it did (a Seedream error carries its code and request id). */
  error?: unknown;
}

export interface RunObserver {
  /** A request for images was answered (help, cancel and duplicates are not such requests). */
  requestEnded(platform: string, outcome: RunOutcome): void;
  /** One image reached its end; `deliveryMs`: from the API's event to the image being posted. */
  imageEnded(platform: string, model: string, outcome: ImageOutcome, deliveryMs?: number): void;
  /** A new request's first image is visible, `ms` after the request was accepted. */
  firstImage(platform: string, ms: number): void;
  runEnded(summary: RunSummary): void;
  /** How to read the admission state (requests waiting for a slot, runs holding one) when asked. */
  watchLoad(read: () => Load | Promise<Load>): void;
}

/** Requests waiting for a slot, and runs holding one (in this process). */
export interface Load {
  queued: number;
  running: number;
}

export const noObserver: RunObserver = {
  requestEnded() {},
  imageEnded() {},
  firstImage() {},
  runEnded() {},
  watchLoad() {},
};

const RUN_OUTCOMES: ReadonlySet<string> = new Set<RunOutcome>([
  "completed",
  "failed",
  "cancelled",
  "rejected",
  "interrupted",
]);

/** The handler's outcome as a run outcome; undefined for answers that are not runs (help, duplicates…). */
export function runOutcome(outcome: string): RunOutcome | undefined {
  return RUN_OUTCOMES.has(outcome) ? (outcome as RunOutcome) : undefined;
}
