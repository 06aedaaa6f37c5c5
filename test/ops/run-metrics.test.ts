import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BotRuntime, createRuntime } from "../../src/app.js";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createPrometheusMetrics } from "../../src/ops/prometheus.js";
import { createRunObserver } from "../../src/ops/run-observer.js";
import { estimate } from "../../src/seedream/prices.js";
import { incoming } from "../core/harness.js";
import { RecordingThread } from "../core/recording-thread.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";

/** The core's observations as the operator reads them, through the real client and a fake Seedream. */

let fake: FakeSeedream;
beforeAll(async () => {
  fake = await startFakeSeedream();
});
afterAll(() => fake.close());
afterEach(() => fake.reset());

async function observedBot(env: Record<string, string> = {}) {
  const config = parseConfig({
    SEEDREAM_API_KEY: "sk-metrics-0123456789",
    SEEDREAM_BASE_URL: fake.url,
    STORE_URL: "memory://",
    SEEDREAM_MAX_RETRIES: "0",
    ...env,
  });
  const prometheus = createPrometheusMetrics({ defaultMetrics: false });
  const lines: string[] = [];
  const logger = createLogger({ write: (line) => lines.push(line) });
  const observer = createRunObserver({
    metrics: prometheus.metrics,
    logger,
    cost: (model, images) => estimate(config.seedream.provider, model, images),
  });
  const runtime: BotRuntime = await createRuntime(config, { observer, logger });
  const read = async () => parsePrometheus(await prometheus.render());
  const runs = async (outcome: string) =>
    sampleValue(await read(), "seedream_runs_total", { platform: "test", outcome });
  const audits = () =>
    lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.audit === true);
  return { runtime, read, runs, audits };
}

describe("run metrics", () => {
  it("queue depth and runs in progress are what the limiter holds at each scrape", async () => {
    const bot = await observedBot({ MAX_CONCURRENT_RUNS: "1" });
    try {
      fake.setScenario({ images: [{ kind: "ok", gate: true }] });
      const first = bot.runtime.handler.submit(incoming("a held lantern"), new RecordingThread());
      await fake.reached(0);
      const waitingThread = new RecordingThread();
      const second = bot.runtime.handler.submit(incoming("a waiting lantern"), waitingThread);
      await waitingThread.waitFor((event) => event.kind === "status");
      const busy = await bot.read();
      expect(sampleValue(busy, "seedream_runs_in_progress")).toBe(1);
      expect(sampleValue(busy, "seedream_queue_depth")).toBe(1);
      fake.releaseAll();
      await Promise.all([first, second]);
      const idle = await bot.read();
      expect(sampleValue(idle, "seedream_runs_in_progress")).toBe(0);
      expect(sampleValue(idle, "seedream_queue_depth")).toBe(0);
      expect(await bot.runs("completed")).toBe(2);
    } finally {
      await bot.runtime.close();
    }
  });

  it("counts a bad command as rejected, a cancelled run as cancelled, and help as no run at all", async () => {
    const bot = await observedBot();
    try {
      await bot.runtime.handler.submit(incoming("a cat --n 99"), new RecordingThread());
      await bot.runtime.handler.submit(incoming("help"), new RecordingThread());
      fake.setScenario({ images: [{ kind: "ok", gate: true }] });
      const request = incoming("a slow cat");
      const running = bot.runtime.handler.submit(request, new RecordingThread());
      await fake.reached(0);
      expect(await bot.runtime.handler.cancel(request.platform, request.user.id)).toBe(1);
      expect((await running).outcome).toBe("cancelled");
      await bot.runtime.handler.idle();
      expect([await bot.runs("rejected"), await bot.runs("cancelled"), await bot.runs("completed")]).toEqual([
        1, 1, 0,
      ]);
      // Only the run that was recorded has an audit line; the mistake never became a run.
      expect(bot.audits().map((a) => [a.outcome, a.asked, a.delivered])).toEqual([["cancelled", 1, 0]]);
    } finally {
      await bot.runtime.close();
    }
  });

  it("a run stopped by a shutdown counts as interrupted", async () => {
    const bot = await observedBot();
    try {
      fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
      const thread = new RecordingThread();
      const running = bot.runtime.handler.submit(incoming("two slow owls --n 2"), thread);
      await fake.reached(1);
      // Image 1 must be posted before the drain: a stopped run drops events it has not posted yet.
      await thread.waitFor((event) => event.kind === "image");
      await bot.runtime.handler.drain(0);
      expect((await running).outcome).toBe("interrupted");
      const metrics = await bot.read();
      expect(sampleValue(metrics, "seedream_runs_total", { platform: "test", outcome: "interrupted" })).toBe(
        1,
      );
      expect(
        sampleValue(metrics, "seedream_images_total", {
          platform: "test",
          model: "seedream-4.5",
          outcome: "delivered",
        }),
      ).toBe(1);
      expect(bot.audits().map((a) => [a.outcome, a.asked, a.delivered])).toEqual([["interrupted", 2, 1]]);
    } finally {
      fake.releaseAll();
      await bot.runtime.close();
    }
  });
});
