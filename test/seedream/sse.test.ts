import { describe, expect, it } from "vitest";
import { BASE64_FIELD } from "../../src/seedream/event-json.js";
import { eventsFromSse } from "../../src/seedream/events.js";
import { decodeSse, type SseMessage } from "../../src/seedream/sse.js";
import type { GenerationEvent } from "../../src/seedream/types.js";
import { translateContext } from "./helpers.js";
import { IMAGE_A, IMAGE_B, recordedStream } from "./recorded-stream.js";

const context = translateContext;

async function* chunked(parts: Array<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  yield* parts;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** As the client decodes a stream: `b64_json` lifted out of the bytes (sse-lift.test.ts has the rest). */
const events = (parts: Array<Uint8Array | string>) =>
  collect(eventsFromSse(decodeSse(chunked(parts), { liftBase64Field: BASE64_FIELD }), context));
const messages = (parts: Array<Uint8Array | string>) => collect(decodeSse(chunked(parts)));

/** Images compared by content, so a split that corrupts one byte of base64 shows. */
function summary(list: GenerationEvent[]) {
  return list.map((event) =>
    event.type === "image" ? { ...event, bytes: event.bytes.toString("hex") } : event,
  );
}

const EXPECTED = [
  {
    type: "image",
    index: 0,
    bytes: IMAGE_A.toString("hex"),
    mimeType: "image/jpeg",
    size: { width: 2048, height: 2048 },
  },
  {
    type: "image_failed",
    index: 2,
    code: "OutputImageSensitiveContentDetected",
    message: "输出图片可能包含敏感信息 Request id: 0217abc",
    kind: "moderation",
  },
  {
    type: "image",
    index: 1,
    bytes: IMAGE_B.toString("hex"),
    mimeType: "image/jpeg",
    size: { width: 2304, height: 1728 },
  },
  { type: "completed", usage: { generatedImages: 2, outputTokens: 31936, totalTokens: 31936 } },
];

describe("SSE decoding of a recorded Seedream stream", () => {
  it("yields every event type, keyed by image_index in arrival order, ignoring unknown types", async () => {
    const bytes = Buffer.from(recordedStream("lf"));
    expect(summary(await events([bytes]))).toEqual(EXPECTED);
  });

  for (const format of ["lf", "crlf", "multiline", "eventless"] as const) {
    it(`gives the same events when split at every byte offset (${format})`, async () => {
      const bytes = Buffer.from(recordedStream(format));
      for (let offset = 0; offset <= bytes.length; offset++) {
        const result = summary(await events([bytes.subarray(0, offset), bytes.subarray(offset)]));
        if (JSON.stringify(result) !== JSON.stringify(EXPECTED)) {
          throw new Error(`split at byte ${offset} of ${bytes.length} (${format}) changed the events`);
        }
      }
    });
  }

  it("gives the same events when every byte arrives on its own (CRLF)", async () => {
    const bytes = Buffer.from(recordedStream("crlf"));
    const single = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(summary(await events(single))).toEqual(EXPECTED);
  });

  it("takes the type from the event line when the JSON has none", async () => {
    const bytes = Buffer.from(recordedStream("lf", { omitTypeField: true }));
    expect(summary(await events([bytes]))).toEqual(EXPECTED);
  });

  it("joins multi-line data with newlines and passes comments to the caller", async () => {
    const comments: string[] = [];
    const out = await collect(
      decodeSse(chunked([": ping\r\n", 'event: x\r\ndata: {\r\ndata:  "a": 1\r\n', "data: }\r\n\r\n"]), {
        onComment: (text) => comments.push(text),
      }),
    );
    expect(out).toEqual([{ event: "x", data: '{\n "a": 1\n}' }]);
    expect(comments).toEqual(["ping"]);
  });

  it("does not split a line when a CR ends one chunk and its LF starts the next", async () => {
    const out = await messages(["data: one\r", "\ndata: two\r\n\r", "\n"]);
    expect(out).toEqual([{ event: undefined, data: "one\ntwo" }]);
  });

  it("understands bare CR line endings and a byte-order mark", async () => {
    const out = await messages([Buffer.from("\ufeffevent: a\rdata: 1\r\r", "utf8")]);
    expect(out).toEqual([{ event: "a", data: "1" }]);
  });

  it("keeps a final event that lacks its blank line, and drops a line cut off mid-way", async () => {
    expect(await messages(["data: whole\n"])).toEqual([{ event: undefined, data: "whole" }]);
    expect(await messages(["data: whole\n\n", 'data: {"cut'])).toEqual<SseMessage[]>([
      { event: undefined, data: "whole" },
    ]);
  });

  it("reports a stream that ends before `completed` as a network error", async () => {
    const full = recordedStream("lf");
    const cut = full.slice(0, full.indexOf("event: image_generation.completed"));
    await expect(events([cut])).rejects.toMatchObject({ name: "SeedreamNetworkError", code: "stream_ended" });
  });

  it("finishes on [DONE] even without a completed event, counting the images", async () => {
    const full = recordedStream("lf");
    const withoutCompleted = full.replace(/event: image_generation\.completed\ndata: .*\n\n/, "");
    const out = await events([withoutCompleted]);
    expect(out.at(-1)).toEqual({ type: "completed", usage: { generatedImages: 2 } });
  });

  it("raises an API error sent as an event mid-stream", async () => {
    const body =
      'data: {"error":{"code":"InternalServiceError","message":"boom Request id: 0217zzzzzz"}}\n\n';
    await expect(events([body])).rejects.toMatchObject({ code: "server", requestId: "0217zzzzzz" });
  });

  it("rejects an event that is not JSON as a protocol error", async () => {
    await expect(events(["event: image_generation.completed\ndata: {oops\n\n"])).rejects.toMatchObject({
      code: "protocol",
    });
  });
});

describe("SSE decoding of large and runaway events", () => {
  it("hands a multi-MB line split over many chunks on as one message, whole", async () => {
    const payload = "A".repeat(4 * 1024 * 1024);
    const line = `data: ${payload}\n\n`;
    const parts: string[] = [];
    for (let offset = 0; offset < line.length; offset += 65_536)
      parts.push(line.slice(offset, offset + 65_536));
    const out = await messages(parts);
    expect(out).toHaveLength(1);
    expect(out[0]?.data).toBe(payload);
  });

  it("stops reading an event that grows past the cap, with a protocol error", async () => {
    const parts = ["data: ", ...Array.from({ length: 40 }, () => "B".repeat(65_536))];
    const decoded = collect(decodeSse(chunked(parts), { maxEventChars: 1024 * 1024 }));
    await expect(decoded).rejects.toMatchObject({
      code: "protocol",
      message: expect.stringContaining("larger than 1 MiB"),
    });
  });
});
