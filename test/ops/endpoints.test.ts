import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/core/store.js";
import { opsRoutes, startOpsServer } from "../../src/ops/http.js";
import { createPrometheusMetrics } from "../../src/ops/prometheus.js";
import { checkReadiness, NO_PLATFORM } from "../../src/ops/readiness.js";
import { parsePrometheus, sampleValue } from "../helpers/prometheus.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(routes: Parameters<typeof startOpsServer>[1]): Promise<string> {
  const server: Server = await startOpsServer(0, routes, "127.0.0.1");
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function sqliteStore() {
  const dir = mkdtempSync(join(tmpdir(), "seedream-ready-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return openStore(`sqlite://${join(dir, "bot.sqlite")}`, { ttlMs: 60_000 });
}

describe("operator endpoints", () => {
  it("/readyz: 503 while a platform connects, 200 once it is up, 503 again when it drops", async () => {
    const store = await sqliteStore();
    cleanups.push(() => store.close());
    const handles: Array<{ name: string; healthy(): boolean }> = [];
    let connected = false;
    const url = await serve(
      opsRoutes({
        readiness: () =>
          checkReadiness({ configured: ["discord"], started: () => handles, pingStore: () => store.ping() }),
      }),
    );
    const starting = await fetch(`${url}/readyz`);
    expect(starting.status).toBe(503);
    expect(await starting.json()).toEqual({
      ok: false,
      platforms: { discord: false },
      store: true,
      notReady: ["discord: starting"],
    });
    handles.push({ name: "discord", healthy: () => connected });
    connected = true;
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, platforms: { discord: true }, store: true, notReady: [] });
    // /healthz is the older name of the same check.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    connected = false;
    const dropped = await fetch(`${url}/readyz`);
    expect(dropped.status).toBe(503);
    expect(((await dropped.json()) as { notReady: string[] }).notReady).toEqual(["discord: not connected"]);
  });

  it("/readyz names a missing platform and a closed store; /livez stays 200", async () => {
    const store = await sqliteStore();
    const url = await serve(
      opsRoutes({
        readiness: () => checkReadiness({ configured: [], started: () => [], pingStore: () => store.ping() }),
      }),
    );
    const none = await fetch(`${url}/readyz`);
    expect(none.status).toBe(503);
    expect(((await none.json()) as { notReady: string[] }).notReady).toEqual([NO_PLATFORM]);
    await store.close();
    const closed = await fetch(`${url}/readyz`);
    expect(closed.status).toBe(503);
    expect(await closed.json()).toEqual({
      ok: false,
      platforms: {},
      store: false,
      notReady: [NO_PLATFORM, "store: closed"],
    });
    const live = await fetch(`${url}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ ok: true });
  });

  it("/readyz answers 503 within its timeout when the store hangs", async () => {
    const url = await serve(
      opsRoutes({
        readiness: () =>
          checkReadiness({
            configured: ["slack"],
            started: () => [{ name: "slack", healthy: () => true }],
            pingStore: () => new Promise<void>(() => {}),
            storeTimeoutMs: 50,
          }),
      }),
    );
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { notReady: string[] }).notReady).toEqual([
      "store: no answer within 50 ms",
    ]);
  });

  it("/metrics serves Prometheus text; other paths and methods are 404", async () => {
    const prometheus = createPrometheusMetrics({ platforms: ["slack"] });
    prometheus.metrics.runFinished("slack", "completed");
    const url = await serve(
      opsRoutes({
        readiness: () => checkReadiness({ configured: [], started: () => [] }),
        metrics: prometheus,
      }),
    );
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await response.text());
    expect(sampleValue(families, "seedream_runs_total", { platform: "slack", outcome: "completed" })).toBe(1);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: "POST" })).status).toBe(404);
  });
});
