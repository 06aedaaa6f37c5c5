import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { SeedreamInvalidParameterError } from "../../src/seedream/errors.js";

const KEY = "sk-live-0123456789abcdef";
const ODD = 'tok"en\\with-escapes';

function capture(format: "json" | "pretty") {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    format,
    secrets: [KEY, ODD],
    write: (l) => lines.push(l),
  });
  return { lines, logger };
}

describe("process logger (pino)", () => {
  it("json: one object per line with level, time, msg and the fields bound by child loggers", () => {
    const { lines, logger } = capture("json");
    const run = logger.child({ runId: "run-1", platform: "slack" });
    run.info("run started", { n: 2 });
    run.child({ requestId: "req-9" }).debug("image posted", { index: 0 });
    logger.warn("outside any run");
    expect(lines).toHaveLength(3);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({
      level: "info",
      msg: "run started",
      runId: "run-1",
      platform: "slack",
      n: 2,
    });
    expect(entries[1]).toMatchObject({
      level: "debug",
      runId: "run-1",
      platform: "slack",
      requestId: "req-9",
    });
    expect(entries[2]).toMatchObject({ level: "warn", msg: "outside any run" });
    expect(entries[2]).not.toHaveProperty("runId");
    for (const entry of entries) expect(Number.isNaN(Date.parse(String(entry.time)))).toBe(false);
  });

  it("scrubs secrets from the message, fields, an error's message, param and cause, and JSON escapes", () => {
    const { lines, logger } = capture("json");
    const error = new SeedreamInvalidParameterError("invalid_parameter", `bad value ${KEY}`, {
      param: KEY,
      requestId: "req-1",
      cause: new Error(`upstream said ${ODD}`),
    });
    logger.error(`call to https://x/?key=${encodeURIComponent(ODD)} failed`, {
      error,
      token: KEY,
      nested: { odd: ODD },
    });
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? "";
    const entry = JSON.parse(line) as { error: Record<string, unknown> };
    for (const secret of [KEY, ODD, JSON.stringify(ODD).slice(1, -1), encodeURIComponent(ODD)]) {
      expect(line).not.toContain(secret);
    }
    expect(entry.error).toMatchObject({ code: "invalid_parameter", requestId: "req-1", param: "[redacted]" });
    expect(String(entry.error.message)).toContain("bad value [redacted]");
    expect(line).toContain("upstream said [redacted]");
  });

  it("pretty: one readable line per entry, scrubbed the same way, levels filtered", () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      format: "pretty",
      secrets: [KEY],
      write: (l) => lines.push(l),
    });
    logger.debug("hidden");
    logger.child({ runId: "r1" }).warn(`key ${KEY} refused`, { error: new Error("nope") });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}key \[redacted\] refused \{"runId":"r1","error":\{/,
    );
    expect(lines[0]).not.toContain("\n");
    expect(lines[0]).not.toContain("    at ");
  });
});
