import type { RunObserver, RunSummary } from "../core/observer.js";
import type { Logger } from "../logger.js";
import { SeedreamError } from "../seedream/errors.js";
import { modelCapabilities } from "../seedream/models.js";
import type { CostEstimate } from "../seedream/prices.js";
import type { BotMetrics } from "./prometheus.js";

/**
 * The core's `RunObserver` as an operator sees it: Prometheus metrics (bounded labels only: the
 * model becomes its family, an error its client code) and one audit line per finished run,
 * the only place a user id meets the run's cost.
 */

export interface RunObserverOptions {
  metrics: BotMetrics;
  logger: Logger;
  /** What `images` delivered images of `model` cost (src/seedream/prices.ts). */
  cost(model: string, images: number): CostEstimate;
}

export function createRunObserver(options: RunObserverOptions): RunObserver {
  const { metrics, logger } = options;
  return {
    requestEnded: (platform, outcome) => metrics.runFinished(platform, outcome),
    imageEnded: (platform, model, outcome, deliveryMs) => {
      metrics.imageFinished(platform, modelCapabilities(model).family, outcome);
      if (deliveryMs !== undefined) metrics.imageDelivered(deliveryMs / 1000);
    },
    firstImage: (_platform, ms) => metrics.firstImage(ms / 1000),
    watchLoad: (read) => metrics.watchLoad(read),
    runEnded: (summary) => {
      const error = summary.error instanceof SeedreamError ? summary.error : undefined;
      if (error && error.code !== "aborted") metrics.apiError(error.code);
      const cost = options.cost(summary.model, summary.delivered);
      metrics.cost(cost.currency, cost.amount);
      logger.info("run finished", auditFields(summary, cost, error));
    },
  };
}

function auditFields(summary: RunSummary, cost: CostEstimate, error: SeedreamError | undefined) {
  return {
    audit: true,
    runId: summary.runId,
    platform: summary.platform,
    ...(summary.teamId === undefined ? {} : { team: summary.teamId }),
    user: summary.userId,
    model: summary.model,
    outcome: summary.outcome,
    asked: summary.asked,
    delivered: summary.delivered,
    blocked: summary.blocked,
    failed: summary.failed,
    estimatedCost: cost,
    durationMs: summary.durationMs,
    ...(error === undefined ? {} : { code: error.code }),
    ...(error?.requestId === undefined ? {} : { requestId: error.requestId }),
  };
}
