import { describe, expect, it } from "vitest";
import { locateRedis, redisVerdict } from "../helpers/redis-locate.js";

describe("Redis test harness", () => {
  const nowhere = { PATH: "/nonexistent" };

  it("without redis-server or REDIS_URL, skips with one loud line that says how to run the suites", () => {
    const target = locateRedis(nowhere, []);
    expect(target).toEqual({});
    const verdict = redisVerdict(target, nowhere);
    expect(verdict.error).toBeUndefined();
    expect(verdict.line?.split("\n")).toHaveLength(1);
    expect(verdict.line).toMatch(/^!!! REDIS: .*SKIPPED.*apt-get install redis-server.*REDIS_URL=/);
  });

  it.each([{ CI: "true" }, { REQUIRE_REDIS: "1" }])("makes a missing Redis a failure under %o", (env) => {
    const verdict = redisVerdict(locateRedis(nowhere, []), { ...nowhere, ...env });
    expect(verdict.line).toBeUndefined();
    expect(verdict.error).toMatch(/^REQUIRE_REDIS: no redis-server binary/);
  });

  it("with only REDIS_URL, uses it and still needs the binary for the restart tests", () => {
    const target = locateRedis({ ...nowhere, REDIS_URL: "redis://10.0.0.5:6379" }, []);
    expect(target).toEqual({ url: "redis://10.0.0.5:6379" });
    expect(redisVerdict(target, {}).line).toMatch(/tests that stop and restart Redis are SKIPPED/);
  });
});
