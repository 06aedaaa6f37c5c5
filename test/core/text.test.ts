import { describe, expect, it } from "vitest";
import { andList, orList, plural, truncate } from "../../src/core/text.js";

describe("text helpers", () => {
  it("lists the British way, with no serial comma", () => {
    expect(orList(["2K", "4K"])).toBe("2K or 4K");
    expect(orList(["1K", "2K", "4K"])).toBe("1K, 2K or 4K");
    expect(andList(["Attach Files"])).toBe("Attach Files");
    expect(andList(["View Channel", "Send Messages", "Attach Files"])).toBe(
      "View Channel, Send Messages and Attach Files",
    );
  });

  it("counts with the right word", () => {
    expect(plural(1, "image")).toBe("1 image");
    expect(plural(0, "image")).toBe("0 images");
    expect(plural(3, "reference image")).toBe("3 reference images");
  });

  it("cuts to the limit in UTF-16 units, ellipsis included, never halving a character", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("abcdefghij", 5)).toBe("abcd…");
    const fox = "🦊".repeat(10); // 2 units each
    const cut = truncate(fox, 6);
    expect(cut.length).toBeLessThanOrEqual(6);
    expect(cut).toBe("🦊🦊…");
    expect(truncate(`ab${"🦊".repeat(5)}`, 6)).toBe("ab🦊…");
  });
});
