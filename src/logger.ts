/**
 * A small leveled logger writing one line per entry to stderr. Every secret the process knows
 * (API key, bot tokens, signing secret) is scrubbed from the text before it is written, so a
 * stray error message or a logged URL can never leak one.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every entry (e.g. `runId`, `platform`, bound once per run). */
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  secrets?: Array<string | undefined>;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length >= 4);
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());

  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join("[redacted]"), text);

  const make = (bound: Record<string, unknown>): Logger => {
    const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
      if (ORDER[level] < threshold) return;
      const all = fields ? { ...bound, ...fields } : bound;
      const extra = Object.keys(all).length > 0 ? ` ${safeJson(all)}` : "";
      write(scrub(`${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${extra}`));
    };
    return {
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

/** A logger that drops everything: the default for library code and tests. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error
        ? { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
        : value,
    );
  } catch {
    return "[unserialisable fields]";
  }
}
