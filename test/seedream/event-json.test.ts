import { describe, expect, it } from "vitest";
import { parseEventJson } from "../../src/seedream/event-json.js";
import { eventsFromSse } from "../../src/seedream/events.js";
import { decodeSse } from "../../src/seedream/sse.js";
import type { GenerationEvent } from "../../src/seedream/types.js";
import { translateContext } from "./helpers.js";
import { IMAGE_A } from "./recorded-stream.js";

const context = translateContext;

/** Bytes whose base64 has `+` and `/` in it, so escaping `/` as `\/` changes the text. */
const BYTES = Buffer.from([...IMAGE_A.subarray(0, 64), 0xfb, 0xff, 0xbf, 0xfe, 0x3f, 0xff]);
const B64 = BYTES.toString("base64");
const TYPE = "image_generation.partial_succeeded";

/** What the fast path must agree with: JSON.parse, then Buffer.from of the string. */
function viaJsonParse(text: string): { rest: Record<string, unknown>; hex: string } {
  const { b64_json, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return { rest, hex: Buffer.from(String(b64_json ?? ""), "base64").toString("hex") };
}

function viaFastPath(text: string): { rest: Record<string, unknown>; hex: string; fast: boolean } {
  const { json, bytes } = parseEventJson(text);
  const { b64_json, ...rest } = json as Record<string, unknown>;
  const hex = (bytes ?? Buffer.from(String(b64_json ?? ""), "base64")).toString("hex");
  return { rest, hex, fast: bytes !== undefined };
}

const PLAIN_ORDERS = [
  `{"type":"${TYPE}","image_index":3,"b64_json":"${B64}","size":"4096x4096","created":1}`,
  `{"b64_json":"${B64}","type":"${TYPE}","image_index":3,"size":"4096x4096"}`,
  `{"type":"${TYPE}","size":"4096x4096","image_index":3,"b64_json":"${B64}"}`,
  `{ "type" : "${TYPE}" , "b64_json"\t:\n "${B64}" , "image_index" : 3 }`,
];

describe("parseEventJson: the base64 sliced out of an event and decoded directly", () => {
  it("decodes plain base64 without JSON.parse of it, for any field order and spacing", () => {
    for (const text of PLAIN_ORDERS) {
      const fast = viaFastPath(text);
      expect(fast.fast, text.slice(0, 60)).toBe(true);
      expect(fast.hex).toBe(BYTES.toString("hex"));
      expect(fast.rest).toEqual(viaJsonParse(text).rest);
    }
  });

  it("falls back to JSON.parse for \\/ and \\u escapes inside b64_json, decoding the same bytes", () => {
    const escapedSlash = B64.replaceAll("/", "\\/");
    const first = B64.charCodeAt(0).toString(16).padStart(4, "0");
    const escapedUnicode = `\\u${first}${B64.slice(1)}`;
    expect(escapedSlash).not.toBe(B64);
    const texts = [
      `{"type":"${TYPE}","image_index":0,"b64_json":"${escapedSlash}","size":"2048x2048"}`,
      `{"type":"${TYPE}","image_index":0,"b64_json":"${escapedUnicode}"}`,
    ];
    for (const text of texts) {
      const fast = viaFastPath(text);
      expect(fast.fast).toBe(false);
      expect(fast).toMatchObject(viaJsonParse(text));
    }
    for (const text of texts) expect(viaFastPath(text).hex).toBe(BYTES.toString("hex"));
  });

  it("leaves nested, duplicated and quoted b64_json keys to JSON.parse, agreeing with it", () => {
    const texts = [
      `{"type":"x","error":{"b64_json":"${B64}"}}`,
      `{"type":"x","b64_json":"${B64}","b64_json":""}`,
      `{"type":"x","b64_json":"","b64_json":"${B64}"}`,
      `{"type":"x","b64_json":"${B64}","error":{"b64_json":"QUJD"}}`,
      `{"message":"say \\"b64_json\\": yes","b64_json":"${B64}"}`,
      `["b64_json","${B64}"]`,
      `{"type":"x","b64_json":null}`,
      `{"type":"x","b64_json":""}`,
    ];
    for (const text of texts) {
      const { json, bytes } = parseEventJson(text);
      const expected = JSON.parse(text) as unknown;
      if (bytes) {
        expect({ ...(json as object), b64_json: bytes.toString("base64") }, text).toEqual(expected);
      } else {
        expect(json, text).toEqual(expected);
      }
    }
  });

  it("throws what JSON.parse throws for text that is not JSON, even around plain base64", () => {
    for (const text of [
      `{"b64_json":"${B64}"`,
      `{"b64_json":"${B64}",}`,
      "not json",
      `{"b64_json":"AB\nCD"}`,
    ]) {
      expect(() => parseEventJson(text), text).toThrow(SyntaxError);
    }
  });
});

async function* chunked(parts: Array<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  yield* parts;
}

async function imagesOf(parts: Uint8Array[]): Promise<string[]> {
  const out: GenerationEvent[] = [];
  for await (const event of eventsFromSse(decodeSse(chunked(parts)), context)) out.push(event);
  return out.map((event) =>
    event.type === "image"
      ? `${event.index}:${event.bytes.toString("hex")}:${event.size?.width}`
      : event.type,
  );
}

describe("SSE images decoded from the event text", () => {
  const stream = Buffer.from(
    [
      `data: {"b64_json":"${B64}","image_index":1,"size":"2048x2048","type":"${TYPE}"}\n\n`,
      `data: {"type":"${TYPE}","image_index":0,"b64_json":"${B64.replaceAll("/", "\\/")}","size":"1024x1024"}\n\n`,
      `data: {"type":"image_generation.completed","usage":{"generated_images":2}}\n\n`,
    ].join(""),
  );
  const expected = [`1:${BYTES.toString("hex")}:2048`, `0:${BYTES.toString("hex")}:1024`, "completed"];

  it("gives the same images, plain or escaped, when split at every byte offset", async () => {
    expect(await imagesOf([stream])).toEqual(expected);
    for (let offset = 0; offset <= stream.length; offset++) {
      const result = await imagesOf([stream.subarray(0, offset), stream.subarray(offset)]);
      if (JSON.stringify(result) !== JSON.stringify(expected)) {
        throw new Error(`split at byte ${offset} of ${stream.length} changed the images`);
      }
    }
  });

  it("still rejects an image event whose b64_json is empty, as before", async () => {
    const empty = Buffer.from(`data: {"type":"${TYPE}","image_index":0,"b64_json":""}\n\n`);
    await expect(imagesOf([empty])).rejects.toMatchObject({ code: "protocol" });
  });
});
