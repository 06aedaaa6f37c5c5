import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BotMetrics, ImageOutcome, RunOutcome } from "../core/metrics.js";

/**
 * The Prometheus side of the core's `BotMetrics` port. Each bot gets its own `Registry` (never
 * prom-client's global one), so several bots in one process (tests, the console next to a
 * server) keep separate counts and never collide on a metric name.
 */

export const RUN_OUTCOMES = [
  "completed",
  "failed",
  "cancelled",
  "rejected",
  "interrupted",
] as const satisfies readonly RunOutcome[];
export const IMAGE_OUTCOMES = ["delivered", "blocked", "failed"] as const satisfies readonly ImageOutcome[];

const DEFAULTS = {
  // Seedream sends the first image of a 2K run after ~25-30 s, 5.0 Pro after ~2 min.
  firstImageBuckets: [1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300],
  // Upload of one image to the chat platform (plus re-encoding when it is too large).
  deliveryBuckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
} as const satisfies Record<string, readonly number[]>;

export interface PrometheusMetrics {
  /** What the core is given. */
  metrics: BotMetrics;
  registry: Registry;
  /** The `content-type` of `render()`'s text. */
  contentType: string;
  render(): Promise<string>;
}

export interface PrometheusOptions {
  /** Platforms to show at zero before their first run (so dashboards have a series at once). */
  platforms?: readonly string[];
  /** `collectDefaultMetrics` (process CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

export function createPrometheusMetrics(options: PrometheusOptions = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const runs = new Counter({
    name: "seedream_runs_total",
    help: "Requests for images that ended, by platform and outcome.",
    labelNames: ["platform", "outcome"] as const,
    registers,
  });
  const images = new Counter({
    name: "seedream_images_total",
    help: "Images that reached their end, by platform, model family and outcome.",
    labelNames: ["platform", "model", "outcome"] as const,
    registers,
  });
  const firstImage = new Histogram({
    name: "seedream_time_to_first_image_seconds",
    help: "From a request being accepted to its first image being visible in the thread.",
    buckets: [...DEFAULTS.firstImageBuckets],
    registers,
  });
  const delivery = new Histogram({
    name: "seedream_image_delivery_seconds",
    help: "From the API's image event to the image being posted.",
    buckets: [...DEFAULTS.deliveryBuckets],
    registers,
  });
  const queueDepth = new Gauge({
    name: "seedream_queue_depth",
    help: "Requests waiting for a free run slot.",
    registers,
  });
  const inProgress = new Gauge({
    name: "seedream_runs_in_progress",
    help: "Runs holding a slot (downloading references or generating).",
    registers,
  });
  const apiErrors = new Counter({
    name: "seedream_api_errors_total",
    help: "Failed Seedream API calls, by the client's error code.",
    labelNames: ["code"] as const,
    registers,
  });
  queueDepth.set(0);
  inProgress.set(0);
  for (const platform of options.platforms ?? []) {
    for (const outcome of RUN_OUTCOMES) runs.labels(boundedLabel(platform), outcome).inc(0);
  }

  const metrics: BotMetrics = {
    runFinished: (platform, outcome) => runs.labels(boundedLabel(platform), outcome).inc(),
    imageFinished: (platform, model, outcome) =>
      images.labels(boundedLabel(platform), boundedLabel(model), outcome).inc(),
    firstImage: (seconds) => firstImage.observe(seconds),
    imageDelivered: (seconds) => delivery.observe(seconds),
    load: (queued, running) => {
      queueDepth.set(queued);
      inProgress.set(running);
    },
    apiError: (code) => apiErrors.labels(boundedLabel(code)).inc(),
  };
  return { metrics, registry, contentType: registry.contentType, render: () => registry.metrics() };
}

/**
 * The callers pass bounded values already; this is the last guard so a surprise (an upstream's
 * invented error code, a long id) can never create one series per request.
 */
function boundedLabel(value: string): string {
  return /^[A-Za-z0-9][\w.-]{0,39}$/.test(value) ? value : "other";
}
