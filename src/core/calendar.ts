/**
 * Quota days and usage months in one IANA time zone (QUOTA_TIMEZONE). The clock is injected,
 * so tests can stand at 23:59:59 and step over midnight. Keys are the local calendar date
 * (`2027-01-15`, `2027-01`): daylight-saving changes only move when midnight falls in UTC.
 */

export interface Period {
  /** Local date, `YYYY-MM-DD`. */
  day: string;
  /** Local month, `YYYY-MM`. */
  month: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

const pad = (value: number): string => String(value).padStart(2, "0");

export function periodAt(ms: number, timeZone: string): Period {
  const local = wallClock(ms, timeZone);
  const month = `${local.year}-${pad(local.month)}`;
  return { day: `${month}-${pad(local.day)}`, month };
}

/** The zone's offset from UTC at `ms`, in ms (Berlin in winter: +3 600 000). */
function offsetAt(ms: number, timeZone: string): number {
  const local = wallClock(ms, timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant the next local day starts (the next quota reset) after `ms`. */
export function nextDayStart(ms: number, timeZone: string): number {
  const today = wallClock(ms, timeZone);
  const midnightAsUtc = Date.UTC(today.year, today.month - 1, today.day + 1);
  const tomorrow = periodAt(midnightAsUtc, "UTC").day;
  // Two corrections settle the offset even when it changes that night.
  let start = midnightAsUtc - offsetAt(midnightAsUtc, timeZone);
  start = midnightAsUtc - offsetAt(start, timeZone);
  // Where a DST change skips midnight itself, the day starts at the first hour that exists.
  while (periodAt(start, timeZone).day !== tomorrow) start += 60 * 60 * 1000;
  while (periodAt(start - 60 * 60 * 1000, timeZone).day === tomorrow) start -= 60 * 60 * 1000;
  return start;
}
