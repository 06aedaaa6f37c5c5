/**
 * One JSON log line → `2026-01-01T10:00:00.000Z WARN  message {"fields":…}`, for a person at a
 * terminal. Errors keep their type, message and code; their stack stays in the JSON format.
 */
const OMIT = new Set(["level", "time", "msg", "pid", "hostname"]);

export function prettyLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (!OMIT.has(key)) fields[key] = withoutStack(value);
  }
  const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
  const level = String(entry.level ?? "info").toUpperCase();
  return `${String(entry.time ?? "")} ${level.padEnd(5)} ${String(entry.msg ?? "")}${extra}`;
}

function withoutStack(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value) || !("stack" in value))
    return value;
  const { stack: _stack, ...rest } = value as Record<string, unknown>;
  return rest;
}
