import { createParser, type EventSourceMessage } from "eventsource-parser";

/** One Server-Sent Event: `event` is the `event:` line, when there was one. */
export interface SseMessage {
  event: string | undefined;
  data: string;
}

/**
 * Hands the SSE parser whole lines only.
 *
 * A 4K image arrives as several MB of base64 on one `data:` line, split over hundreds of
 * network chunks. A parser that rescans (or re-concatenates) its unfinished line on every chunk
 * is quadratic in that line; this buffer keeps the fragments in an array and joins them once,
 * when the line's terminator arrives, so the work stays linear whatever the parser does inside.
 */
export class LineBuffer {
  private pending: string[] = [];

  constructor(private readonly emit: (completeLines: string) => void) {}

  push(text: string): void {
    if (text === "") return;
    // Most chunks of an image are base64 with no line end at all: one native forward search
    // each (memchr-fast) settles that; the backward search runs only on chunks that end lines.
    if (text.indexOf("\n") === -1 && text.indexOf("\r") === -1) {
      this.pending.push(text);
      return;
    }
    let end = lastLineEnd(text, text.length - 1);
    // A CR as the very last character may be the first half of a CRLF whose LF is in the next
    // chunk; treating it as a line end would turn that LF into a spurious blank line.
    if (end === text.length - 1 && text.charCodeAt(end) === CR) end = lastLineEnd(text, end - 1);
    if (end === -1) {
      this.pending.push(text);
      return;
    }
    this.pending.push(text.slice(0, end + 1));
    const complete = this.pending.join("");
    this.pending = end + 1 < text.length ? [text.slice(end + 1)] : [];
    this.emit(complete);
  }

  /**
   * At end of input a held CR is a line end after all (sent as CRLF so the parser does not wait
   * for an LF). A line with no terminator is a truncated stream: dropped, and reported as `false`.
   */
  end(): boolean {
    const rest = this.pending.join("");
    this.pending = [];
    if (rest === "") return true;
    if (!rest.endsWith("\r")) return false;
    this.emit(`${rest}\n`);
    return true;
  }
}

const CR = 13;
const LF = 10;

function lastLineEnd(text: string, from: number): number {
  for (let i = from; i >= 0; i--) {
    const code = text.charCodeAt(i);
    if (code === LF || code === CR) return i;
  }
  return -1;
}

export interface DecodeSseOptions {
  /** Called for `: comment` lines (servers use them as keep-alives). */
  onComment?: (comment: string) => void;
}

/**
 * Decodes a byte stream into SSE messages as they complete (multi-line `data:`, comments, CRLF,
 * CR, a BOM). Memory is bounded by the event in flight: nothing before it is kept.
 */
export async function* decodeSse(
  chunks: AsyncIterable<Uint8Array | string>,
  options: DecodeSseOptions = {},
): AsyncGenerator<SseMessage, void, undefined> {
  const ready: SseMessage[] = [];
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => ready.push({ event: message.event, data: message.data }),
    onComment: options.onComment,
  });
  const lines = new LineBuffer((text) => parser.feed(text));
  const decoder = new TextDecoder("utf-8");
  let sawLine = false;
  for await (const chunk of chunks) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    lines.push(text);
    sawLine ||= text !== "";
    while (ready.length > 0) yield ready.shift() as SseMessage;
  }
  lines.push(decoder.decode());
  // A server that ends with `data: …\n` but no blank line still meant that event; one cut off
  // mid-line did not, and the caller will notice the missing `completed`.
  if (lines.end() && sawLine) parser.feed("\n");
  while (ready.length > 0) yield ready.shift() as SseMessage;
}
