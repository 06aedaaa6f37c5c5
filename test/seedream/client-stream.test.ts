import { describe, expect, it } from "vitest";
import { errorSentence } from "../../src/core/messages.js";
import { SeedreamInvalidParameterError } from "../../src/seedream/errors.js";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { API_KEY, caught, clientFor, collect, fakeHash, hashed, useFakeSeedream } from "./helpers.js";

let fake: FakeSeedream;
useFakeSeedream((started) => {
  fake = started;
});

const image = async (index: number, extra: Record<string, unknown> = {}) => ({
  type: "image",
  index,
  bytes: await fakeHash(fake, index),
  mimeType: "image/jpeg",
  size: { width: 2048, height: 2048 },
  ...extra,
});

describe("streaming generation against the fake API", () => {
  it("yields images, a moderated image and completed; an internal error stops the rest", async () => {
    fake.setScenario({
      images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }, { kind: "internal" }, { kind: "ok" }],
    });
    const client = clientFor(fake);
    const events = hashed(await collect(client.generate({ prompt: "four foxes", maxImages: 5, size: "2K" })));
    expect(events).toEqual([
      await image(0),
      {
        type: "image_failed",
        index: 1,
        code: "OutputImageSensitiveContentDetected",
        message: expect.stringContaining("sensitive information"),
        kind: "moderation",
      },
      await image(2),
      {
        type: "image_failed",
        index: 3,
        code: "InternalServiceError",
        message: expect.any(String),
        kind: "internal",
      },
      { type: "completed", usage: { generatedImages: 2, outputTokens: 32768, totalTokens: 32768 } },
    ]);
    expect(fake.requests[0]?.body).toEqual({
      model: "doubao-seedream-4-5-251128",
      prompt: "four foxes",
      size: "2K",
      sequential_image_generation: "auto",
      sequential_image_generation_options: { max_images: 5 },
      stream: true,
      response_format: "b64_json",
      watermark: false,
    });
    await client.close();
  });

  it("keys images by image_index when they arrive out of order", async () => {
    fake.setScenario({
      images: [
        { kind: "ok", index: 2 },
        { kind: "ok", index: 0 },
        { kind: "ok", index: 1 },
      ],
    });
    const events = hashed(await collect(clientFor(fake).generate({ prompt: "three", maxImages: 3 })));
    expect(events.slice(0, 3)).toEqual([await image(2), await image(0), await image(1)]);
  });

  it.each([
    [
      "CRLF, comments, unknown events, 7-byte chunks",
      { format: "crlf", comments: true, unknownEvents: true, chunkSize: 7 },
    ],
    ["pretty-printed multi-line data", { format: "multiline", chunkSize: 1000 }],
    ["no event lines", { format: "eventless" }],
    ["type only on the event line", { omitTypeField: true }],
  ] as const)("understands %s", async (_name, variant) => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }], ...variant });
    const events = hashed(await collect(clientFor(fake).generate({ prompt: "variants", maxImages: 3 })));
    expect(events.map((event) => event.type)).toEqual(["image", "image_failed", "image", "completed"]);
    expect(events[0]).toEqual(await image(0));
    expect(events[2]).toEqual(await image(2));
  });

  it("reads DMXAPI-style events (no model, no size, created_at) and × size separators", async () => {
    fake.setScenario({ images: [{ kind: "ok" }], omitModel: true, createdField: "created_at" });
    const [first] = await collect(clientFor(fake, { provider: "dmxapi" }).generate({ prompt: "dmx" }));
    expect(first).toMatchObject({ type: "image", index: 0 });
    expect(first).not.toHaveProperty("size");
    fake.setScenario({ images: [{ kind: "ok" }], sizeSeparator: "×" });
    const [second] = await collect(clientFor(fake).generate({ prompt: "times", size: "2304x1728" }));
    expect(second).toMatchObject({ size: { width: 2304, height: 1728 } });
  });

  it("hands the caller image 0 before the server has sent image 1", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const iterator = clientFor(fake).generate({ prompt: "gated", maxImages: 2 })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ type: "image", index: 0 });
    expect(fake.wasSent(1)).toBe(false);
    fake.release(1);
    expect((await iterator.next()).value).toMatchObject({ type: "image", index: 1 });
    expect((await iterator.next()).value).toMatchObject({ type: "completed" });
    expect((await iterator.next()).done).toBe(true);
  });

  it("waits for headers that come only with the first image", async () => {
    fake.setScenario({ headersDelayMs: 200, images: [{ kind: "ok", gate: true }] });
    const pending = collect(clientFor(fake).generate({ prompt: "slow" }));
    await fake.reached(0);
    fake.release(0);
    expect((await pending).map((event) => event.type)).toEqual(["image", "completed"]);
  });

  it("downloads images itself for response_format url, without sending the API key there", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const events = hashed(
      await collect(clientFor(fake).generate({ prompt: "urls", maxImages: 2, responseFormat: "url" })),
    );
    expect(events[0]).toEqual(await image(0, { url: `${fake.origin}/files/0-0.jpeg` }));
    expect(events[1]).toEqual(await image(1, { url: `${fake.origin}/files/0-1.jpeg` }));
    expect(fake.downloads.map((download) => download.path)).toEqual(["/files/0-0.jpeg", "/files/0-1.jpeg"]);
    expect(fake.downloads.every((download) => download.headers.authorization === undefined)).toBe(true);
    expect(fake.requests[0]?.body?.response_format).toBe("url");
  });

  it("reports an image whose URL cannot be fetched as one failed slot", async () => {
    const body = JSON.stringify({
      type: "image_generation.partial_succeeded",
      image_index: 0,
      url: `${fake.origin}/files/missing.jpeg`,
    });
    const completed = JSON.stringify({ type: "image_generation.completed", usage: { generated_images: 1 } });
    fake.setScenario({ raw: { chunks: [`data: ${body}\n\ndata: ${completed}\n\n`] } });
    const events = await collect(clientFor(fake).generate({ prompt: "gone", responseFormat: "url" }));
    expect(events[0]).toMatchObject({
      type: "image_failed",
      index: 0,
      code: "ImageDownloadFailed",
      kind: "other",
    });
  });

  it("turns a JSON error on a stream request into a typed error naming the parameter", async () => {
    fake.setScenario({
      error: { status: 400, code: "InvalidParameter", param: "size", message: "size is invalid." },
    });
    const error = await caught(collect(clientFor(fake).generate({ prompt: "bad" })));
    expect(error).toBeInstanceOf(SeedreamInvalidParameterError);
    expect(error).toMatchObject({
      code: "invalid_parameter",
      status: 400,
      param: "size",
      apiCode: "InvalidParameter",
      requestId: "0217fake00000000",
    });
    expect(errorSentence(error)).toBe(
      "Seedream rejected the request: its size value isn't accepted (request id 0217fake00000000).",
    );
    expect(fake.requests[0]?.body?.stream).toBe(true);
  });

  it("reads a JSON reply from the body even when the server labels it an event stream", async () => {
    const reply = { model: "m", created: 1, data: [{ b64_json: Buffer.from("jpeg?").toString("base64") }] };
    fake.setScenario({
      raw: { headers: { "content-type": "text/event-stream" }, chunks: [JSON.stringify(reply)] },
    });
    const events = await collect(clientFor(fake).generate({ prompt: "json" }));
    expect(events).toEqual([
      { type: "image", index: 0, bytes: Buffer.from("jpeg?"), mimeType: "image/jpeg" },
      { type: "completed", usage: { generatedImages: 1 } },
    ]);
  });
});

describe("non-stream generation", () => {
  it("yields the same events from data[]", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }] });
    const events = hashed(
      await collect(clientFor(fake).generate({ prompt: "json", maxImages: 3, stream: false })),
    );
    expect(events).toEqual([
      await image(0),
      expect.objectContaining({ type: "image_failed", index: 1, kind: "moderation" }),
      await image(2),
      { type: "completed", usage: { generatedImages: 2, outputTokens: 32768, totalTokens: 32768 } },
    ]);
    expect(fake.requests[0]?.body?.stream).toBeUndefined();
  });

  it("reports a single image blocked with HTTP 200 and data[0].error as a moderated image", async () => {
    fake.setScenario({ images: [{ kind: "moderation", code: "OutputImageSensitiveContentDetected" }] });
    const events = await collect(clientFor(fake).generate({ prompt: "blocked", stream: false }));
    expect(events).toEqual([
      expect.objectContaining({
        type: "image_failed",
        index: 0,
        code: "OutputImageSensitiveContentDetected",
      }),
      { type: "completed", usage: { generatedImages: 0, outputTokens: 0, totalTokens: 0 } },
    ]);
  });

  it("uses non-stream mode for models that cannot stream, with their own fields", async () => {
    fake.setScenario({ images: [{ kind: "ok" }] });
    const model = "doubao-seedream-3-0-t2i-250415";
    const events = await collect(
      clientFor(fake).generate({ prompt: "old", model, seed: 7, guidanceScale: 2.5 }),
    );
    expect(events.map((event) => event.type)).toEqual(["image", "completed"]);
    expect(fake.requests[0]?.body).toEqual({
      model,
      prompt: "old",
      response_format: "b64_json",
      watermark: false,
      seed: 7,
      guidance_scale: 2.5,
    });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });
});
