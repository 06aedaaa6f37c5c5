import { describe, expect, it } from "vitest";
import { nextDayStart, periodAt } from "../../src/core/calendar.js";

const at = (iso: string) => Date.parse(iso);

describe("quota calendar", () => {
  it("names the day and month in UTC by default", () => {
    expect(periodAt(at("2027-01-31T23:59:59Z"), "UTC")).toEqual({ day: "2027-01-31", month: "2027-01" });
    expect(periodAt(at("2027-02-01T00:00:00Z"), "UTC")).toEqual({ day: "2027-02-01", month: "2027-02" });
  });

  it("starts the day at the configured zone's midnight", () => {
    // 23:30 UTC is already the next morning in Shanghai (UTC+8) and still the evening in New York.
    expect(periodAt(at("2027-03-10T23:30:00Z"), "Asia/Shanghai").day).toBe("2027-03-11");
    expect(periodAt(at("2027-03-11T03:30:00Z"), "America/New_York").day).toBe("2027-03-10");
  });

  it("finds the next reset instant", () => {
    expect(nextDayStart(at("2027-03-10T12:00:00Z"), "UTC")).toBe(at("2027-03-11T00:00:00Z"));
    expect(nextDayStart(at("2027-03-10T12:00:00Z"), "Asia/Shanghai")).toBe(at("2027-03-10T16:00:00Z"));
    expect(nextDayStart(at("2027-01-15T10:00:00Z"), "Europe/Berlin")).toBe(at("2027-01-15T23:00:00Z"));
  });

  it("follows daylight saving time", () => {
    // Berlin moves to summer time on 2027-03-28: midnight after it is 22:00 UTC.
    expect(nextDayStart(at("2027-03-28T10:00:00Z"), "Europe/Berlin")).toBe(at("2027-03-28T22:00:00Z"));
    expect(nextDayStart(at("2027-10-31T10:00:00Z"), "Europe/Berlin")).toBe(at("2027-10-31T23:00:00Z"));
  });

  it("handles a zone where daylight saving skips midnight itself", () => {
    // Havana springs forward at 00:00 → 01:00 (2027-03-14): that day starts at 01:00 local (05:00 UTC).
    const start = nextDayStart(at("2027-03-13T12:00:00Z"), "America/Havana");
    expect(periodAt(start, "America/Havana").day).toBe("2027-03-14");
    expect(periodAt(start - 1000, "America/Havana").day).toBe("2027-03-13");
  });
});
