/**
 * The byte-level lift of `b64_json` out of the SSE stream (src/seedream/sse-lift.ts), as the
 * client runs it, against the text path (eventsource-parser on decoded text, then JSON.parse):
 * the same events and byte-identical images however the stream is split, the base64 never
 * reaching the parser when it is plain, and the text path's answer whenever it is not.
 */
import { describe, expect, it } from "vitest";
import { BASE64_FIELD, parseEventJson } from "../../src/seedream/event-json.js";
import { eventsFromSse } from "../../src/seedream/events.js";
import { decodeSse, type SseMessage } from "../../src/seedream/sse.js";
import type { GenerationEvent } from "../../src/seedream/types.js";
import { translateContext } from "./helpers.js";
import { IMAGE_A, IMAGE_B } from "./recorded-stream.js";

const LIFT = { liftBase64Field: BASE64_FIELD };
const TYPE = "image_generation.partial_succeeded";
/** Bytes whose base64 has `+`, `/` and padding, so escapes and group boundaries matter. */
const BYTES = Buffer.concat([IMAGE_A.subarray(0, 200), Buffer.from([0xfb, 0xff, 0xbf, 0xfe, 0x3f])]);
const B64 = BYTES.toString("base64");
const PROMPT = "狐狸在雪中 🦊 naïve — “quoted”";

async function* chunked(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Every event, or the error, as one comparable string; images by their bytes. */
async function outcome(parts: Uint8Array[], lift: boolean): Promise<string> {
  const lines: string[] = [];
  try {
    const messages = decodeSse(chunked(parts), lift ? LIFT : {});
    for await (const event of eventsFromSse(messages, translateContext)) {
      lines.push(
        JSON.stringify(event.type === "image" ? { ...event, bytes: event.bytes.toString("hex") } : event),
      );
    }
  } catch (error) {
    const { name, code, message } = error as { name: string; code?: string; message: string };
    lines.push(`throws ${name} ${code} ${message}`);
  }
  return lines.join("\n");
}

/** Two-way splits at every offset, three-way splits around every offset, and one byte per chunk. */
function* splits(bytes: Buffer): Generator<Uint8Array[]> {
  for (let a = 0; a <= bytes.length; a++) {
    yield [bytes.subarray(0, a), bytes.subarray(a)];
    for (const b of [a + 1, a + 5]) {
      if (b < bytes.length) yield [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
    }
  }
  yield Array.from(bytes, (byte) => Uint8Array.of(byte));
}

/** How many messages came with their base64 lifted out (the rest went the text path). */
async function liftedMessages(parts: Uint8Array[]): Promise<number> {
  let lifted = 0;
  for await (const message of decodeSse(chunked(parts), LIFT)) if (message.lifted) lifted += 1;
  return lifted;
}

/** The lift gives what the text path gives, for every split; `lifts` of its events skip the text. */
async function expectSameAsTextPath(stream: string, lifts?: number): Promise<void> {
  const bytes = Buffer.from(stream, "utf8");
  const expected = await outcome([bytes], false);
  for (const parts of splits(bytes)) {
    const at = () =>
      `split ${parts.map((part) => part.length).join("+")} of ${JSON.stringify(stream.slice(0, 80))}`;
    const got = await outcome(parts, true);
    if (got !== expected) throw new Error(`${at()}:\n${got}\n--- expected\n${expected}`);
    if (lifts !== undefined && (await liftedMessages(parts)) !== lifts)
      throw new Error(`${at()}: not lifted`);
  }
}

const image = (index: number, b64: string, extra = "") =>
  `{"type":"${TYPE}","model":"m","revised_prompt":"${PROMPT}","image_index":${index},"b64_json":"${b64}","size":"2048x2048"${extra}}`;
const COMPLETED = `event: image_generation.completed\ndata: {"type":"image_generation.completed","usage":{"generated_images":2}}\n\n`;

describe("b64_json lifted from the bytes, against the text path", () => {
  it("gives byte-identical images and the same events for every split, inside the base64 and inside multi-byte UTF-8", async () => {
    const stream = [
      `event: ${TYPE}\ndata: ${image(1, B64)}\n\n`,
      `: keep-alive "b64_json":"${B64}"\n`,
      `event: ${TYPE}\r\ndata: ${image(0, IMAGE_B.toString("base64"))}\r\n\r\n`,
      `data: {"type":"image_generation.partial_failed","image_index":2,"error":{"code":"OutputImageSensitiveContentDetected","message":"${PROMPT}"}}\r\r`,
      COMPLETED,
    ].join("");
    expect(await outcome([Buffer.from(stream)], true)).toContain(BYTES.toString("hex"));
    await expectSameAsTextPath(stream, 2);
    await expectSameAsTextPath(`\ufeff${stream}`, 2);
  });

  it("never hands the parser a plain value: the event's data keeps only the empty string", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const line = Buffer.from(`data: ${image(0, big.toString("base64"))}\n\n`);
    const parts: Uint8Array[] = [];
    for (let offset = 0; offset < line.length; offset += 65_531)
      parts.push(line.subarray(offset, offset + 65_531));
    const messages: SseMessage[] = await collect(decodeSse(chunked(parts), LIFT));
    expect(messages).toHaveLength(1);
    const [message] = messages as [SseMessage];
    expect(message.data).toBe(image(0, ""));
    expect(message.lifted?.equals(big)).toBe(true);
    expect(parseEventJson(message.data, message.lifted).bytes).toBe(message.lifted);
  });

  it("parses events without b64_json as before (url images, failures, usage, unknown types)", async () => {
    const stream = [
      `data: {"type":"${TYPE}","image_index":0,"url":"https://example.invalid/a.jpg","size":"1024x1024"}\n\n`,
      `data: {"type":"image_generation.partial_image","note":"b64_json","b64":"${B64}"}\n\n`,
      `data: {"type":"image_generation.partial_failed","image_index":1,"error":{"code":"X","message":"no"}}\n\n`,
      COMPLETED,
    ].join("");
    const messages = await collect(decodeSse(chunked([Buffer.from(stream)]), LIFT));
    expect(messages.every((message) => message.lifted === undefined)).toBe(true);
    await expectSameAsTextPath(stream);
  });

  it("puts back what is not plain base64 and agrees with JSON.parse: escapes, whitespace, padding, other alphabets", async () => {
    const urlSafe = B64.replaceAll("+", "-").replaceAll("/", "_");
    const values = [
      B64.replaceAll("/", "\\/"),
      `\\u0041${B64.slice(1)}`,
      `${B64.slice(0, 8)}\\n${B64.slice(8)}`,
      `${B64.slice(0, 8)} ${B64.slice(8)}`,
      `${B64.slice(0, 6)}==${B64.slice(8)}`,
      urlSafe,
      B64.replace(/=+$/, ""),
      "QQ==",
      "QQ",
      "Q",
      "==",
      "",
    ];
    for (const value of values) await expectSameAsTextPath(`data: ${image(0, value)}\n\n${COMPLETED}`);
    // Unpadded and URL-safe base64 decode the same as padded standard base64, and are lifted.
    await expectSameAsTextPath(`data: ${image(0, urlSafe)}\n\ndata: ${image(1, "QQ")}\n\n${COMPLETED}`, 2);
  });

  it("lifts only a top-level b64_json that is the only one, else JSON.parse decides", async () => {
    const events = [
      `{"type":"${TYPE}","image_index":0,"b64_json":"${B64}","b64_json":"QUJD"}`,
      `{"type":"${TYPE}","image_index":0,"b64_json":"QUJD","b64_json":"${B64}"}`,
      `{"type":"${TYPE}","image_index":0,"extra":{"b64_json":"${B64}"},"url":"https://example.invalid/a"}`,
      `{"type":"${TYPE}","image_index":0,"b64_json":"${B64}","error":{"b64_json":"QUJD"}}`,
      `{"type":"${TYPE}","image_index":0,"note":"say \\"b64_json\\":\\"QUJD\\"","b64_json":"${B64}"}`,
      `{"type":"${TYPE}","image_index":0,"b64_json":null,"url":"https://example.invalid/a"}`,
    ];
    for (const event of events) await expectSameAsTextPath(`data: ${event}\n\n${COMPLETED}`);
    // The key split over two lines of one event's data, and on lines that are not data.
    await expectSameAsTextPath(
      `data: {"type":"${TYPE}","image_index":0,"b64_json"\ndata: :"${B64}"}\n\nevent: "b64_json":"${B64}"\ndata: {}\n\n${COMPLETED}`,
    );
  });

  it("yields the typed protocol error for a malformed event or one past the cap, and stream_ended for a cut-off one", async () => {
    await expectSameAsTextPath(
      `data: {"type":"${TYPE}","image_index":0,"b64_json":"${B64}",}\n\n${COMPLETED}`,
    );
    await expectSameAsTextPath(`data: {"type":"${TYPE}","image_index":0,"b64_json":"${B64}\n\n${COMPLETED}`);
    await expectSameAsTextPath(`data: {"type":"${TYPE}","image_index":0,"b64_json":"${B64.slice(0, 100)}`);
    const notJson = await outcome([Buffer.from(`data: {"b64_json":"${B64}"\n\n`)], true);
    expect(notJson).toMatch(/^throws SeedreamProtocolError protocol Seedream sent an event that is not JSON/);

    const huge = Buffer.from(`data: {"b64_json":"${"QUJD".repeat(300_000)}"}\n\n`);
    const parts = [huge.subarray(0, 1000), huge.subarray(1000)];
    await expect(
      collect(decodeSse(chunked(parts), { ...LIFT, maxEventChars: 1024 * 1024 })),
    ).rejects.toMatchObject({
      code: "protocol",
      message: expect.stringContaining("larger than 1 MiB"),
    });
  });

  it("stops reading the body when the caller breaks off mid-stream", async () => {
    let returned = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        yield Buffer.from(`data: ${image(0, B64)}\n\n`);
        yield Buffer.from(`data: ${image(1, B64)}\n\n`);
        throw new Error("read past the break");
      } finally {
        returned = true;
      }
    }
    for await (const event of eventsFromSse(decodeSse(body(), LIFT), translateContext)) {
      expect(event).toMatchObject({ type: "image", index: 0 });
      break;
    }
    expect(returned).toBe(true);
  });
});

describe("an image event through the lift, one image at a time", () => {
  it("decodes each of several images into its own Buffer, none sharing another's bytes", async () => {
    const a = IMAGE_A.toString("base64");
    const b = IMAGE_B.toString("base64");
    const stream = Buffer.from(`data: ${image(0, a)}\n\ndata: ${image(1, b)}\n\n${COMPLETED}`);
    const out: GenerationEvent[] = await collect(
      eventsFromSse(decodeSse(chunked([stream]), LIFT), translateContext),
    );
    const images = out.filter((event) => event.type === "image");
    expect(images.map((event) => event.bytes.toString("base64"))).toEqual([a, b]);
  });
});
