import { type DestinationStream, pino, stdSerializers } from "pino";
import { prettyLine } from "./ops/pretty-log.js";

/**
 * The logger port the whole bot writes to, and its one implementation.
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

/**
 * The process logger: pino behind the project's `Logger` port. `json` writes one JSON object per
 * line (`level`, `time`, `msg`, then the fields; `runId`/`platform` bound by child loggers);
 * `pretty` renders the same entry as one readable line for a terminal.
 *
 * Secrets are scrubbed from the finished line (pino's `streamWrite` hook), so they go from every
 * string (the message, any field, an error's message, stack or `param`) and from both formats.
 * pino's path-based `redact` would only cover fields we thought of in advance.
 */

export type LogFormat = "json" | "pretty";

export interface LogOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Values never to write: API key, bot tokens, signing secret. Shorter than 4 characters: ignored. */
  secrets?: ReadonlyArray<string | undefined>;
  /** Receives each finished line without its newline (default: stderr). */
  write?: (line: string) => void;
}

export interface ProcessLogger extends Logger {
  child(fields: Record<string, unknown>): ProcessLogger;
}

export const REDACTED = "[redacted]";

export function createLogger(options: LogOptions = {}): ProcessLogger {
  const format = options.format ?? "json";
  const scrub = scrubber(options.secrets ?? []);
  const write = options.write;
  const destination: DestinationStream = write
    ? { write: (chunk: string) => write(render(format, chunk)) }
    : format === "json"
      ? pino.destination({ fd: 2, sync: true })
      : { write: (chunk: string) => void process.stderr.write(`${render(format, chunk)}\n`) };
  const root = pino(
    {
      level: options.level ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The project logs errors under `error`; pino's serializer keeps message, stack, code,
      // requestId, param and cause instead of JSON.stringify's `{}`.
      serializers: { error: stdSerializers.err, err: stdSerializers.err },
      hooks: { streamWrite: scrub },
    },
    destination,
  );
  return wrap(root);
}

function wrap(instance: pino.Logger): ProcessLogger {
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) =>
    instance[level](fields ?? {}, message);
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (fields) => wrap(instance.child(fields)),
  };
}

function render(format: LogFormat, chunk: string): string {
  const line = chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk;
  return format === "json" ? line : prettyLine(line);
}

/**
 * Replaces every secret in a finished JSON line, also as JSON escapes it (a secret with a quote
 * or backslash) and as a URL carries it (percent-encoded).
 */
export function scrubber(secrets: ReadonlyArray<string | undefined>): (line: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < 4) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (line) => line;
  return (line) => ordered.reduce((out, form) => out.split(form).join(REDACTED), line);
}

/** A logger that drops everything: the default for library code and tests. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
