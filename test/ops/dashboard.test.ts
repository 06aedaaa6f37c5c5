import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createPrometheusMetrics } from "../../src/ops/prometheus.js";
import { parsePrometheus } from "../helpers/prometheus.js";

const root = new URL("../../", import.meta.url);
interface Panel {
  id: number;
  title: string;
  datasource: { uid: string };
  targets: Array<{ expr: string; datasource: { uid: string } }>;
}
const dashboard = JSON.parse(readFileSync(new URL("deploy/grafana/seedream-bot.json", root), "utf8")) as {
  __inputs: Array<{ name: string; pluginId: string }>;
  uid: string;
  panels: Panel[];
};
// Grafana replaces this with the data source picked at import.
const DATASOURCE = ["$", "{DS_PROMETHEUS}"].join("");

describe("deploy/ files", () => {
  it("the Grafana dashboard queries only metrics the bot exposes", async () => {
    const { metrics, render } = createPrometheusMetrics({ platforms: ["slack"] });
    metrics.apiError("server");
    metrics.cost("USD", 0.04);
    metrics.imageFinished("slack", "seedream-4.5", "delivered");
    const exposed = new Set(parsePrometheus(await render()).map((f) => f.name));
    const queried = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => t.expr.match(/\b(?:seedream|process|nodejs)_\w+/g) ?? []),
    );
    expect(queried.length).toBeGreaterThan(8);
    for (const name of queried) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      expect(exposed, name).toContain(base);
    }
  });

  it("the dashboard imports with a Prometheus data source and has the panels an operator asked for", () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: "DS_PROMETHEUS", pluginId: "prometheus" }),
    ]);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe(DATASOURCE);
      for (const target of panel.targets) expect(target.datasource.uid).toBe(DATASOURCE);
    }
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const needed of [
      /rate\(seedream_runs_total/,
      /sum by \(outcome\) \(rate\(seedream_images_total/,
      /histogram_quantile\(0\.5, [^\n]*seedream_time_to_first_image_seconds_bucket/,
      /histogram_quantile\(0\.95, [^\n]*seedream_time_to_first_image_seconds_bucket/,
      /seedream_queue_depth/,
      /seedream_api_errors_total/,
      /seedream_estimated_cost_total/,
    ])
      expect(exprs).toMatch(needed);
  });

  it("deploy/prometheus.yml scrapes /metrics of the bot", () => {
    const config = readFileSync(new URL("deploy/prometheus.yml", root), "utf8");
    expect(config).toMatch(/^ {2}- job_name: seedream-bot$/m);
    expect(config).toMatch(/^ {4}metrics_path: \/metrics$/m);
    expect(config).toMatch(/targets: \["127\.0\.0\.1:3000"\]/);
  });
});
