import { describe, expect, it } from "vitest";
import { createPrometheusMetrics } from "../../src/ops/prometheus.js";
import { family, histogramCount, parsePrometheus, sampleValue } from "../helpers/prometheus.js";

describe("Prometheus metrics", () => {
  it("exposes the documented names with bounded labels, plus the process metrics", async () => {
    const { metrics, render } = createPrometheusMetrics({ platforms: ["slack"] });
    metrics.runFinished("slack", "completed");
    metrics.imageFinished("slack", "seedream-4.5", "delivered");
    metrics.imageFinished("slack", "seedream-4.5", "blocked");
    metrics.firstImage(12.5);
    metrics.imageDelivered(0.3);
    metrics.watchLoad(() => ({ queued: 3, running: 2 }));
    metrics.cost("USD", 0.04);
    metrics.cost("USD", 0.08);
    metrics.apiError("rate_limited");
    const families = parsePrometheus(await render());

    expect(family(families, "seedream_runs_total").type).toBe("COUNTER");
    expect(sampleValue(families, "seedream_runs_total", { platform: "slack", outcome: "completed" })).toBe(1);
    // Every outcome of a configured platform has a series from the start (rate() works at once).
    expect(sampleValue(families, "seedream_runs_total", { platform: "slack", outcome: "interrupted" })).toBe(
      0,
    );
    expect(family(families, "seedream_runs_total").metrics).toHaveLength(5);
    expect(
      sampleValue(families, "seedream_images_total", {
        platform: "slack",
        model: "seedream-4.5",
        outcome: "blocked",
      }),
    ).toBe(1);
    expect(family(families, "seedream_time_to_first_image_seconds").type).toBe("HISTOGRAM");
    expect(histogramCount(families, "seedream_time_to_first_image_seconds")).toBe(1);
    expect(histogramCount(families, "seedream_image_delivery_seconds")).toBe(1);
    expect(sampleValue(families, "seedream_queue_depth")).toBe(3);
    expect(sampleValue(families, "seedream_runs_in_progress")).toBe(2);
    expect(sampleValue(families, "seedream_api_errors_total", { code: "rate_limited" })).toBe(1);
    expect(sampleValue(families, "seedream_estimated_cost_total", { currency: "USD" })).toBeCloseTo(0.12);
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ])
      expect(family(families, name).metrics.length).toBeGreaterThan(0);
  });

  it("keeps two bots in one process apart (one registry each, never the global one)", async () => {
    const first = createPrometheusMetrics();
    const second = createPrometheusMetrics();
    first.metrics.runFinished("discord", "failed");
    first.metrics.runFinished("discord", "failed");
    second.metrics.runFinished("discord", "failed");
    expect(
      sampleValue(parsePrometheus(await first.render()), "seedream_runs_total", {
        platform: "discord",
        outcome: "failed",
      }),
    ).toBe(2);
    expect(
      sampleValue(parsePrometheus(await second.render()), "seedream_runs_total", {
        platform: "discord",
        outcome: "failed",
      }),
    ).toBe(1);
    const { register } = await import("prom-client");
    expect(await register.getSingleMetric("seedream_runs_total")).toBeUndefined();
  });

  it("never turns an odd value into a label of its own", async () => {
    const { metrics, render } = createPrometheusMetrics({ defaultMetrics: false });
    metrics.apiError('a "quoted"\nmulti-line code that goes on and on and on and on');
    metrics.imageFinished("slack", "ep-20260101-abcdef/../x y", "failed");
    const families = parsePrometheus(await render());
    expect(sampleValue(families, "seedream_api_errors_total", { code: "other" })).toBe(1);
    expect(
      sampleValue(families, "seedream_images_total", {
        platform: "slack",
        model: "other",
        outcome: "failed",
      }),
    ).toBe(1);
  });
});
