/**
 * JSON.parse for one SSE event that may carry a multi-MB `b64_json`, without the full-size
 * JSON string value. Usually the SSE decoder has lifted the base64 out of the bytes already
 * (sse-lift.ts) and only checks remain here; otherwise the base64 is sliced out of the event's
 * text (a V8 slice shares the parent's characters) and decoded straight into a Buffer. Either
 * way only the small rest of the event goes through JSON.parse. With JSON.parse, each 4K image
 * would pass through one more string of its base64's size before it became bytes.
 */

/** The field that carries an image as base64 (`response_format: b64_json`). */
export const BASE64_FIELD = "b64_json";
const KEY = JSON.stringify(BASE64_FIELD);
/** Plain base64 (standard or URL-safe, as Buffer.from accepts): no escapes, no whitespace. */
const PLAIN_BASE64 = /^[A-Za-z0-9+/=_-]*$/;

export interface ParsedEvent {
  /** The event as JSON.parse gives it, except that a decoded `b64_json` is left as `""`. */
  json: unknown;
  /** The decoded `b64_json`, when the fast path took it; otherwise `json` holds it as a string. */
  bytes: Buffer | undefined;
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Where the `b64_json` value's characters start and end, when the text looks simple enough. */
function findValue(text: string): { start: number; end: number } | undefined {
  const key = text.indexOf(KEY);
  if (key === -1) return undefined;
  const colon = skipSpace(text, key + KEY.length);
  if (text.charCodeAt(colon) !== 0x3a /* : */) return undefined;
  const quote = skipSpace(text, colon + 1);
  if (text.charCodeAt(quote) !== 0x22 /* " */) return undefined;
  const start = quote + 1;
  const end = text.indexOf('"', start);
  if (end === -1) return undefined;
  // A second `"b64_json"` (a duplicate key, or one in a nested object): JSON.parse decides which
  // one counts, so let it.
  if (text.indexOf(KEY, end + 1) !== -1) return undefined;
  return { start, end };
}

/**
 * Parses one event's JSON. Takes the fast path only when it is sure to agree with JSON.parse:
 * exactly one `"b64_json"` in the text, its value plain base64 (a `\/`, a `\u…`, or anything
 * else that needs unescaping falls back to JSON.parse of the whole), and the rest of the event,
 * parsed with that value emptied, holding it as its top-level `b64_json`. Linear in the text:
 * two indexOf scans, one regex test, one small JSON.parse. Throws what JSON.parse throws.
 */
export function parseEventJson(text: string, lifted?: Buffer): ParsedEvent {
  if (lifted) return withLifted(text, lifted);
  const span = findValue(text);
  if (span && span.end > span.start) {
    const base64 = text.slice(span.start, span.end);
    if (PLAIN_BASE64.test(base64)) {
      const rest = emptiedEvent(text.slice(0, span.start) + text.slice(span.end));
      if (rest !== undefined) return { json: rest, bytes: Buffer.from(base64, "base64") };
    }
  }
  return { json: JSON.parse(text), bytes: undefined };
}

/** `text` with `lifted`'s base64 put back as the value of its first `"b64_json"`. */
function putBack(text: string, lifted: Buffer): string {
  const key = text.indexOf(KEY);
  const quote = key === -1 ? -1 : skipSpace(text, skipSpace(text, key + KEY.length) + 1);
  if (text.charCodeAt(quote) !== 0x22 /* " */) return text;
  return `${text.slice(0, quote + 1)}${lifted.toString("base64")}${text.slice(quote + 1)}`;
}

/**
 * The SSE decoder lifted the base64 of the event's first `"b64_json"` (its value is `""` in
 * `text`). The same checks as the slice path decide whether that is the value JSON.parse would
 * give: the only such key, at the top level. If not (a duplicate, a nested one), the value is
 * put back and the event parsed as if nothing had been lifted.
 */
function withLifted(text: string, lifted: Buffer): ParsedEvent {
  const key = text.indexOf(KEY);
  if (key !== -1 && text.indexOf(KEY, key + 1) === -1) {
    const rest = emptiedEvent(text);
    if (rest !== undefined) return { json: rest, bytes: lifted };
  }
  return parseEventJson(putBack(text, lifted));
}

/**
 * The event with its base64 taken out, parsed, when the emptied value is the top-level
 * `b64_json` (so the bytes taken are what JSON.parse would have given); else undefined.
 */
function emptiedEvent(text: string): object | undefined {
  let rest: unknown;
  try {
    rest = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof rest !== "object" || rest === null || Array.isArray(rest)) return undefined;
  return (rest as Record<string, unknown>).b64_json === "" ? rest : undefined;
}
