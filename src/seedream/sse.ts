import { createParser, type EventSourceMessage, type ParseError } from "eventsource-parser";
import { Base64Lift, eventTooLarge } from "./sse-lift.js";

/** One Server-Sent Event: `event` is the `event:` line, when there was one. */
export interface SseMessage {
  event: string | undefined;
  data: string;
  /**
   * With `liftBase64Field`: that field's value, decoded, when it was lifted out of this event;
   * `data` then holds the field with an empty string value (`"b64_json":""`) in its place.
   */
  lifted?: Buffer;
}

export const SSE_DEFAULTS = {
  /**
   * The largest event we hold, in characters. A 4K PNG is about 25 MB, 33 MB as base64; a
   * server that never ends its event is cut off here instead of filling the heap.
   */
  maxEventChars: 64 * 1024 * 1024,
  /**
   * An event past this many bytes is an image (error, usage and progress events are under a
   * few KB): reading more of it waits for `admit`.
   */
  admitAfterBytes: 256 * 1024,
} as const;

export interface DecodeSseOptions {
  /** Called for `: comment` lines (servers use them as keep-alives). */
  onComment?: (comment: string) => void;
  maxEventChars?: number;
  /**
   * A JSON string field of the events' data that holds base64 (Seedream's `b64_json`): decoded
   * straight from the bytes into `lifted`, never held as text (sse-lift.ts says when and why).
   */
  liftBase64Field?: string;
  /**
   * Called when an event grows past `admitAfterBytes`, before any more of it is read; resolves
   * with the function that frees what it admitted. The admission lasts until the caller asks for
   * the next message after that event (it has handled the image by then: every layer above
   * pulls one event at a time), or the stream ends. Lets a process bound how many images are in
   * flight across all its streams; the others wait, unread, in their sockets.
   */
  admit?: () => Promise<() => void>;
  admitAfterBytes?: number;
}

const CR = 13;
const LF = 10;

/**
 * Decodes a byte stream into SSE messages as they complete (multi-line `data:`, comments, CRLF,
 * CR, a BOM). Memory is bounded by the event in flight: nothing before it is kept.
 *
 * A 4K image arrives as several MB of base64 on one `data:` line, split over hundreds of network
 * chunks. eventsource-parser keeps an unfinished line as a list of fragments and joins them once,
 * when the line ends, so this stays linear in the line's length (bench/RESULTS.md: our own line
 * buffer in front of it was no faster, and is gone). With `liftBase64Field`, that line's base64
 * does not reach the parser at all.
 */
export async function* decodeSse(
  chunks: AsyncIterable<Uint8Array | string>,
  options: DecodeSseOptions = {},
): AsyncGenerator<SseMessage, void, undefined> {
  const maxEventChars = options.maxEventChars ?? SSE_DEFAULTS.maxEventChars;
  const admitAfterBytes = options.admitAfterBytes ?? SSE_DEFAULTS.admitAfterBytes;
  const ready: SseMessage[] = [];
  let overflow = false;
  let lift: Base64Lift | undefined;
  /** Bytes read since the last complete event (roughly the event in flight). */
  let pending = 0;
  let release: (() => void) | undefined;
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      pending = 0;
      const lifted = lift?.take();
      ready.push({ event: message.event, data: message.data, ...(lifted ? { lifted } : {}) });
    },
    onComment: options.onComment,
    onError: (error: ParseError) => {
      overflow ||= error.type === "max-buffer-size-exceeded";
    },
    maxBufferSize: maxEventChars,
  });
  const decoder = new TextDecoder("utf-8");
  let last = "";
  const feed = (text: string): void => {
    if (text === "") return;
    parser.feed(text);
    last = text;
    if (overflow) throw eventTooLarge(maxEventChars);
  };
  if (options.liftBase64Field !== undefined) {
    lift = new Base64Lift(
      options.liftBase64Field,
      { bytes: (bytes) => feed(decoder.decode(bytes, { stream: true })), text: feed },
      maxEventChars,
    );
  }
  /**
   * Hands over the complete events. The first is the one admitted (it grew past the threshold
   * since the event before): its admission is freed once the caller asks for the next.
   */
  async function* flush(): AsyncGenerator<SseMessage, void, undefined> {
    if (ready.length === 0) return;
    let admitted = release;
    release = undefined;
    try {
      while (ready.length > 0) {
        yield ready.shift() as SseMessage;
        admitted?.();
        admitted = undefined;
      }
    } finally {
      admitted?.();
    }
  }
  try {
    for await (const chunk of chunks) {
      pending += chunk.length;
      if (lift) lift.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
      else feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
      yield* flush();
      if (options.admit && release === undefined && pending > admitAfterBytes)
        release = await options.admit();
    }
    feed(decoder.decode());
    // A server that ends with `data: …\n` but no blank line still meant that event; one cut off
    // mid-line did not (the parser drops it), and the caller will notice the missing `completed`.
    // A final CR may be the parser's held half of a CRLF: the LF completes it, the next one ends
    // the event.
    const end = last.charCodeAt(last.length - 1);
    if (end === LF) parser.feed("\n");
    else if (end === CR) parser.feed("\n\n");
    yield* flush();
  } finally {
    release?.();
  }
}
