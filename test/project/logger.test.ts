import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";

describe("logger", () => {
  it("scrubs every known secret, including inside error fields", () => {
    const lines: string[] = [];
    const logger = createLogger({
      format: "pretty",
      secrets: ["sk-live-123456", "xoxb-abcdef"],
      write: (l) => lines.push(l),
    });
    logger.error("request to https://x/?token=xoxb-abcdef failed", {
      error: new Error("Bearer sk-live-123456 rejected"),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("sk-live-123456");
    expect(lines[0]).not.toContain("xoxb-abcdef");
    expect(lines[0]).toContain("[redacted]");
    expect(lines[0]).toContain("rejected");
  });

  it("drops entries below its level", () => {
    const lines: string[] = [];
    const logger = createLogger({ format: "pretty", level: "warn", write: (l) => lines.push(l) });
    logger.info("hidden");
    logger.warn("shown");
    expect(lines.map((l) => l.split(" ").slice(1).join(" "))).toEqual(["WARN  shown"]);
  });
});
