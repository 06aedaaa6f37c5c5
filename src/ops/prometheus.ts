import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ImageOutcome, Load, RunOutcome } from "../core/observer.js";

/**
 * The bot's Prometheus metrics. Each bot gets its own `Registry` (never prom-client's global
 * one), so several bots in one process (tests, the console next to a server) keep separate
 * counts and never collide on a metric name. Fed by `run-observer.ts`.
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

/** The instruments, in the bot's terms. Every label value is bounded (see `boundedLabel`). */
export interface BotMetrics {
  runFinished(platform: string, outcome: RunOutcome): void;
  /** `model`: the model family (`seedream-4.5`), never a free-form id. */
  imageFinished(platform: string, model: string, outcome: ImageOutcome): void;
  firstImage(seconds: number): void;
  imageDelivered(seconds: number): void;
  /** Read at every scrape: requests waiting for a slot, runs holding one. */
  watchLoad(read: () => Load | Promise<Load>): void;
  apiError(code: string): void;
  cost(currency: string, amount: number): void;
}

export interface PrometheusMetrics {
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
  let load: () => Load | Promise<Load> = () => ({ queued: 0, running: 0 });
  new Gauge({
    name: "seedream_queue_depth",
    help: "Requests waiting for a free run slot (on Redis: in the queue every process shares).",
    registers,
    async collect() {
      this.set((await load()).queued);
    },
  });
  new Gauge({
    name: "seedream_runs_in_progress",
    help: "Runs holding a slot (downloading references or generating).",
    registers,
    async collect() {
      this.set((await load()).running);
    },
  });
  const apiErrors = new Counter({
    name: "seedream_api_errors_total",
    help: "Failed Seedream API calls, by the client's error code.",
    labelNames: ["code"] as const,
    registers,
  });
  // Priced by src/seedream/prices.ts (or SEEDREAM_PRICE_PER_IMAGE): an estimate, not an invoice.
  const cost = new Counter({
    name: "seedream_estimated_cost_total",
    help: "Estimated cost of the images delivered, by currency.",
    labelNames: ["currency"] as const,
    registers,
  });
  for (const platform of options.platforms ?? []) {
    for (const outcome of RUN_OUTCOMES) runs.labels(boundedLabel(platform), outcome).inc(0);
  }

  const metrics: BotMetrics = {
    runFinished: (platform, outcome) => runs.labels(boundedLabel(platform), outcome).inc(),
    imageFinished: (platform, model, outcome) =>
      images.labels(boundedLabel(platform), boundedLabel(model), outcome).inc(),
    firstImage: (seconds) => firstImage.observe(seconds),
    imageDelivered: (seconds) => delivery.observe(seconds),
    watchLoad: (read) => {
      load = read;
    },
    apiError: (code) => apiErrors.labels(boundedLabel(code)).inc(),
    cost: (currency, amount) => cost.labels(boundedLabel(currency)).inc(amount),
  };
  return { metrics, registry, contentType: registry.contentType, render: () => registry.metrics() };
}

/**
 * Callers pass bounded values (platform names, model families, the client's error codes); this
 * keeps a surprise (a stray id, a line break) from becoming a label: it reads "other" instead.
 */
function boundedLabel(value: string): string {
  return /^[A-Za-z0-9][\w.-]{0,39}$/.test(value) ? value : "other";
}
