/**
 * What the core reports while it works, in its own words. The composition root turns these
 * calls into Prometheus metrics (`src/ops/prometheus.ts`); the core never sees prom-client.
 * Every argument is a bounded value (platform name, model family, outcome, error code): never a
 * user id, a prompt or anything else a user can vary at will.
 */

/** How a request that asked for images ended. `interrupted`: cut short by a shutdown. */
export type RunOutcome = "completed" | "failed" | "cancelled" | "rejected" | "interrupted";

export type ImageOutcome = "delivered" | "blocked" | "failed";

export interface BotMetrics {
  runFinished(platform: string, outcome: RunOutcome): void;
  /** One image of a run reached its end: posted, blocked by moderation, or failed. */
  imageFinished(platform: string, model: string, outcome: ImageOutcome): void;
  /** Request accepted → its first image visible in the thread. */
  firstImage(seconds: number): void;
  /** The API's image event → that image posted. */
  imageDelivered(seconds: number): void;
  /** Admission state after every change: requests waiting for a slot, runs holding one. */
  load(queued: number, running: number): void;
  /** A Seedream call that failed, by the client's error code. */
  apiError(code: string): void;
}

export const noMetrics: BotMetrics = {
  runFinished() {},
  imageFinished() {},
  firstImage() {},
  imageDelivered() {},
  load() {},
  apiError() {},
};
