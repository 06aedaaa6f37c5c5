import { describe, expect, it } from "vitest";
import { blockedTermMatcher } from "../../src/core/blocked-terms.js";

describe("blocked terms", () => {
  const match = blockedTermMatcher(["gore", "Blood Bath", "血腥", "competitor-x", "  "]);

  it("matches whole words and phrases, whatever the case", () => {
    expect(match("A GORE scene")).toBe("gore");
    expect(match("after the blood   bath, calm")).toBe("Blood Bath");
    expect(match("gore.")).toBe("gore");
    expect(match("a logo for Competitor-X")).toBe("competitor-x");
  });

  it("does not match inside other words", () => {
    expect(match("Al Gore's gorgeous gorey hat")).toBe("gore");
    expect(match("gorgeous gorey")).toBeUndefined();
    expect(match("bloodbath")).toBeUndefined();
    expect(match("a blood orange")).toBeUndefined();
  });

  it("matches Chinese terms anywhere in the prompt", () => {
    expect(match("一张很血腥的海报")).toBe("血腥");
    expect(match("一张温馨的海报")).toBeUndefined();
  });

  it("sees through full-width letters and zero-width characters", () => {
    expect(match("ＧＯＲＥ everywhere")).toBe("gore");
    expect(match("go\u200bre")).toBe("gore");
  });

  it("names the longer phrase when a shorter term is inside it", () => {
    const both = blockedTermMatcher(["blood", "blood bath"]);
    expect(both("a blood bath")).toBe("blood bath");
    expect(both("blood")).toBe("blood");
  });

  it("treats regular expression characters literally and blocks nothing when empty", () => {
    expect(blockedTermMatcher(["c++", "a.b"])("I like c++ a lot")).toBe("c++");
    expect(blockedTermMatcher(["a.b"])("axb")).toBeUndefined();
    expect(blockedTermMatcher([])("anything")).toBeUndefined();
  });

  it("stays fast on a long prompt with many terms", () => {
    const many = blockedTermMatcher(Array.from({ length: 500 }, (_, i) => `term${i}`));
    const prompt = "a ".repeat(50_000);
    const started = performance.now();
    expect(many(prompt)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(500);
  });
});
