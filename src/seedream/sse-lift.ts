/**
 * A byte-level fast path in front of eventsource-parser for the one huge field of a Seedream
 * stream: an image event's `"b64_json":"…"`, about 5 MB of base64 per 4K image.
 *
 * Why not leave it to eventsource-parser and JSON.parse: they work on text, so every image
 * would first exist as decoded text, as the parser's joined line and as the event's `data`,
 * each a string of its base64's size, before it became bytes (bench/RESULTS.md, memory). Here
 * the value's bytes go from each network chunk straight into base64 decoding; the parser gets
 * the event with the value left out (`"b64_json":""`) and still does everything SSE (fields,
 * comments, CR/LF/CRLF, the BOM, dispatch). What this file must know of SSE is only where a
 * `data:` line's value starts and where lines and events end, so that it never lifts from a
 * comment or an `event:` line, nor across a line or an event.
 *
 * It lifts only the first `"b64_json"` of an event, only when `:` and a string follow on the
 * same line, and only while the value is plain base64. Anything else (an escape such as `\/`,
 * whitespace, a line break, `=` before the end, an empty value) puts what it took back as text,
 * rebuilt exactly (decoded whole groups re-encode to the same characters), and the text path
 * decides as before; event-json.ts checks the rest of the event agrees. Linear: each byte is
 * looked at once, the value itself only by `indexOf`, a latin1 copy and the base64 decoder.
 */
import { seedreamError } from "./error-mapping.js";

const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const DATA_FIELD = Buffer.from("data:", "latin1");
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Characters held back: Buffer.from(…, "base64")'s alphabets (standard, URL-safe), at most two `=`. */
const LAST_GROUP = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Where the parser of the event's text gets its input, in stream order. */
export interface TextSink {
  /** Bytes of the stream that are not lifted (UTF-8, possibly split mid-character). */
  bytes(chunk: Uint8Array): void;
  /** Lifted characters put back (plain ASCII base64). */
  text(text: string): void;
}

export function eventTooLarge(maxEventChars: number) {
  return seedreamError(
    "protocol",
    `Seedream sent an event larger than ${Math.round(maxEventChars / 2 ** 20)} MiB; stopped reading it.`,
  );
}

enum Key {
  /** Matching `"b64_json"`, `keyAt` bytes so far. */
  Name = 0,
  /** After the name: spaces, then `:`. */
  Colon = 1,
  /** After the colon: spaces, then the value's `"`. */
  Quote = 2,
  /** Decided for this event (lifted, or not liftable): nothing more to match. */
  Done = 3,
}

export class Base64Lift {
  readonly #key: Buffer;
  readonly #sink: TextSink;
  readonly #maxEventChars: number;
  /** Bytes of a BOM matched at the very start of the stream; -1 once past it. */
  #bom = 0;
  #afterCR = false;
  #lineEmpty = true;
  /** Bytes of `data:` matched at the line's start; 5 inside a data value; -1 for other lines. */
  #field = 0;
  #state: Key = Key.Name;
  #keyAt = 0;
  /** The first name of this event decided it (lifted or not): later ones are JSON.parse's. */
  #eventDecided = false;
  #lifting = false;
  /** The last 1–4 characters taken, not decoded yet (see #lift). */
  #carry = "";
  #pieces: Buffer[] = [];
  #decodedBytes = 0;
  /** Held to the same cap as the parser's buffer, which holds the rest of the event. */
  #liftedChars = 0;
  #lifted: Buffer | undefined;

  constructor(fieldName: string, sink: TextSink, maxEventChars: number) {
    this.#key = Buffer.from(JSON.stringify(fieldName), "latin1");
    this.#sink = sink;
    this.#maxEventChars = maxEventChars;
  }

  /** The bytes lifted out of the event the parser is dispatching now, once. */
  take(): Buffer | undefined {
    const lifted = this.#lifted;
    this.#lifted = undefined;
    return lifted;
  }

  push(chunk: Uint8Array): void {
    let from = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.#lifting) {
        i = this.#lift(chunk, i);
        from = i;
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      if (this.#bom >= 0) {
        if (byte === BOM[this.#bom]) {
          this.#bom = this.#bom === 2 ? -1 : this.#bom + 1;
          continue;
        }
        // A broken BOM makes this line something else than `data:` for the parser too.
        if (this.#bom > 0) this.#field = -1;
        this.#bom = -1;
      }
      if (byte === LF || byte === CR) {
        const secondOfCRLF = byte === LF && this.#afterCR;
        this.#afterCR = byte === CR;
        if (secondOfCRLF) continue;
        if (this.#lineEmpty) this.#eventDecided = false;
        this.#lineEmpty = true;
        this.#field = 0;
        this.#state = this.#eventDecided ? Key.Done : Key.Name;
        this.#keyAt = 0;
        continue;
      }
      this.#afterCR = false;
      this.#lineEmpty = false;
      if (this.#field < DATA_FIELD.length) {
        if (this.#field >= 0) this.#field = byte === DATA_FIELD[this.#field] ? this.#field + 1 : -1;
        continue;
      }
      if (this.#match(byte)) {
        this.#sink.bytes(chunk.subarray(from, i));
        from = i;
        this.#startLifting();
      }
    }
    if (from < chunk.length) this.#sink.bytes(chunk.subarray(from));
  }

  /** Advances the name/colon/quote match by one byte of a data value; true at the value's `"`. */
  #match(byte: number): boolean {
    switch (this.#state) {
      case Key.Name:
        if (byte === this.#key[this.#keyAt]) {
          this.#keyAt += 1;
          if (this.#keyAt === this.#key.length) {
            this.#eventDecided = true;
            this.#state = Key.Colon;
          }
        } else {
          // The name's only `"` are its first and last byte, so a mismatch restarts at most at 1.
          this.#keyAt = byte === QUOTE ? 1 : 0;
        }
        return false;
      case Key.Colon:
        if (byte === COLON) this.#state = Key.Quote;
        else if (byte !== SPACE && byte !== TAB) this.#state = Key.Done;
        return false;
      case Key.Quote:
        if (byte === QUOTE) {
          this.#state = Key.Done;
          return true;
        }
        if (byte !== SPACE && byte !== TAB) this.#state = Key.Done;
        return false;
      default:
        return false;
    }
  }

  #startLifting(): void {
    this.#lifting = true;
    this.#carry = "";
    this.#pieces = [];
    this.#decodedBytes = 0;
    this.#liftedChars = 0;
    // Taken when its event was dispatched; one left over belonged to no event.
    this.#lifted = undefined;
  }

  /**
   * Takes the value's characters from `start` up to its closing `"` or the chunk's end.
   * Returns where the byte scan goes on: the closing quote (given to the parser as text), the
   * chunk's end, or `start` again when the value is not plain base64 after all (then what was
   * taken before this chunk has been put back as text, and the scan reads this chunk as text).
   * The last 1–4 characters taken are always held back undecoded: until the value ends, nobody
   * knows whether they are its last group (which may be `=`-padded) or a whole one.
   */
  #lift(chunk: Uint8Array, start: number): number {
    const quote = chunk.indexOf(QUOTE, start);
    const end = quote === -1 ? chunk.length : quote;
    this.#liftedChars += end - start;
    if (this.#liftedChars > this.#maxEventChars) throw eventTooLarge(this.#maxEventChars);
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const before = { pieces: this.#pieces.length, carry: this.#carry };
    let at = start;
    let head = "";
    if (this.#carry !== "" && at < end) {
      const need = Math.min(4 - this.#carry.length, end - at);
      this.#carry += bytes.toString("latin1", at, at + need);
      at += need;
      // More characters follow, so the held group is a whole one.
      if (this.#carry.length === 4 && at < end) {
        head = this.#carry;
        this.#carry = "";
      }
    }
    let body = "";
    if (at < end) {
      let whole = at + ((end - at) & ~3);
      if (whole === end) whole -= 4;
      body = bytes.toString("latin1", at, whole);
      this.#carry = bytes.toString("latin1", whole, end);
    }
    if (!this.#decode(head) || !this.#decode(body) || !LAST_GROUP.test(this.#carry)) {
      return this.#putBack(before, start);
    }
    if (quote === -1) return end;
    // The value ends here; its last group may be padded. Nothing at all: not ours to judge.
    const last = Buffer.from(this.#carry, "base64");
    if (this.#decodedBytes + last.length === 0) return this.#putBack(before, start);
    this.#pieces.push(last);
    this.#lifted = Buffer.concat(this.#pieces, this.#decodedBytes + last.length);
    this.#pieces = [];
    this.#carry = "";
    this.#lifting = false;
    return quote;
  }

  /** Decodes whole groups; false when a character was not base64 (the decoder skipped it). */
  #decode(groups: string): boolean {
    if (groups === "") return true;
    const piece = Buffer.from(groups, "base64");
    if (piece.length !== (groups.length / 4) * 3) return false;
    this.#pieces.push(piece);
    this.#decodedBytes += piece.length;
    return true;
  }

  /**
   * Not plain base64: what was taken before this chunk goes back to the parser as text, rebuilt
   * (whole groups re-encode to the same characters, up to the URL-safe alphabet, which decodes
   * the same), and this chunk is scanned as text from `start`.
   */
  #putBack(before: { pieces: number; carry: string }, start: number): number {
    let text = "";
    for (const piece of this.#pieces.slice(0, before.pieces)) text += piece.toString("base64");
    this.#sink.text(text + before.carry);
    this.#pieces = [];
    this.#carry = "";
    this.#lifting = false;
    return start;
  }
}
