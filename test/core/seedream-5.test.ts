import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { FakeScenario, FakeSeedream } from "../fakes/seedream-server.js";
import { type Harness, incoming, useHarness } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/**
 * Seedream 5.0 lite and Pro, `--format`, `--web`, `--fast`, `--ar` per model and every error
 * code's own sentence, through the handler with the real client against the fake Seedream
 * (which refuses what the real models refuse: see test/fakes/seedream-refusals.ts).
 */

let fake: FakeSeedream;
let harness: Harness;

useHarness((started, wired) => {
  fake = started;
  harness = wired;
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("Seedream 5.0 Pro: no groups, no stream", () => {
  it("--n 2 sends two single-image requests without stream fields and posts each image as it arrives", async () => {
    fake.queue({ images: [{ kind: "ok" }] }, { images: [{ kind: "ok", gate: true }] });
    const thread = new RecordingThread();
    const running = harness.handler.submit(incoming("a lighthouse --model 5.0-pro --n 2"), thread);

    // The first image is in the thread while the fake still holds the second request's answer.
    await thread.waitFor((event) => event.kind === "image");
    await fake.reached(0);
    expect(thread.images.map((image) => image.caption)).toEqual(["1/2"]);
    expect(fake.requests).toHaveLength(2);

    fake.release(0);
    const result = await running;
    expect(result.outcome).toBe("completed");
    expect(thread.images.map((image) => image.caption)).toEqual(["1/2", "2/2"]);
    for (const request of fake.requests) {
      expect(request.body?.model).toBe("doubao-seedream-5-0-pro-260628");
      expect(request.body).not.toHaveProperty("stream");
      expect(request.body).not.toHaveProperty("sequential_image_generation");
      expect(request.body).not.toHaveProperty("sequential_image_generation_options");
    }
    expect(thread.lastStatus).toMatch(/^Done: 2 of 2 images delivered/);
  });

  it("a failed request is that slot's inline failure and the others still arrive", async () => {
    fake.queue(
      { error: { status: 400, code: "OutputImageSensitiveContentDetected" } },
      { images: [{ kind: "ok" }] },
      { images: [{ kind: "ok" }] },
    );
    const thread = new RecordingThread();
    const result = await harness.handler.submit(incoming("three boats --model 5.0-pro --n 3"), thread);
    expect(result.outcome).toBe("completed");
    expect(thread.images).toHaveLength(2);
    expect(thread.texts).toEqual([
      expect.stringMatching(/^Image \d\/3 was blocked by Seedream's content filter\.$/),
    ]);
    expect(thread.lastStatus).toMatch(/^Done: 2 of 3 images delivered, 1 blocked by the content filter/);
  });

  it("a failure every request shares (the model is not enabled) is said once, and stops the rest", async () => {
    fake.setScenario({ error: { status: 404, code: "ModelNotOpen" } });
    const thread = new RecordingThread();
    const result = await harness.handler.submit(incoming("a fox --model 5.0-pro --n 4"), thread);
    expect(result.outcome).toBe("failed");
    expect(thread.texts).toHaveLength(1);
    expect(thread.texts[0]).toContain("is not enabled on the bot's Seedream account");
  });

  it("cancel aborts every request in flight", async () => {
    fake.setScenario({ images: [{ kind: "ok", gate: true }] });
    const thread = new RecordingThread();
    const request = incoming("slow owls --model 5.0-pro --n 3");
    const running = harness.handler.submit(request, thread);
    await fake.request(2);
    expect(await harness.handler.cancel(request.platform, request.user.id)).toBe(1);
    expect((await running).outcome).toBe("cancelled");
    expect(await Promise.all([fake.closed(0), fake.closed(1), fake.closed(2)])).toEqual([
      "aborted",
      "aborted",
      "aborted",
    ]);
    expect(thread.images).toEqual([]);
  });

  it("runs at most SEEDREAM_PARALLEL_REQUESTS at once (default 4)", async () => {
    fake.setScenario({ images: [{ kind: "ok", gate: true }] });
    const thread = new RecordingThread();
    const running = harness.handler.submit(incoming("six cats --model 5.0-pro --n 6"), thread);
    await fake.request(3);
    // Give a fifth request every chance to be sent early; it must wait for a free place.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests).toHaveLength(4);
    fake.releaseAll();
    await running;
    expect(fake.requests).toHaveLength(6);
    expect(thread.images.map((image) => image.caption)).toEqual(["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]);
  });

  it("the fake refuses stream fields on 5.0 Pro, as the real API does", async () => {
    const response = await fetch(`${fake.url}/images/generations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "dola-seedream-5-0-pro-260628", prompt: "x", stream: false }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "InvalidParameter", param: "stream" } });
  });
});

describe("--format", () => {
  it("png on 5.0 sends output_format and posts a PNG", async () => {
    const thread = new RecordingThread();
    await harness.handler.submit(incoming("a poster --model 5.0 --format png"), thread);
    expect(fake.requests[0]?.body).toMatchObject({ output_format: "png", stream: true });
    const [image] = thread.images;
    expect(image?.mimeType).toBe("image/png");
    expect(image?.fileName).toMatch(/\.png$/);
    expect(image?.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it("a PNG over the platform's upload cap is posted as JPEG, said once in the thread", async () => {
    // Noise does not compress: a 256x256 PNG of it is ~190 KB, its JPEG a fraction of that.
    const noise = randomBytes(256 * 256 * 3);
    const png = await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } })
      .png()
      .toBuffer();
    fake.setScenario({ images: [{ kind: "ok", bytes: png }] });
    const thread = new RecordingThread({ maxUploadBytes: 100_000 });
    await harness.handler.submit(incoming("posters --model 5.0-pro --format png --n 2"), thread);
    expect(thread.images.map((image) => image.mimeType)).toEqual(["image/jpeg", "image/jpeg"]);
    expect(thread.texts.filter((text) => text.includes("posted as JPEG"))).toHaveLength(1);
  });

  it("on 4.5 is refused privately, naming the models that have it, with no request", async () => {
    const thread = new RecordingThread({ ephemeral: true });
    const result = await harness.handler.submit(incoming("a poster --model 4.5 --format png"), thread);
    expect(result.outcome).toBe("rejected");
    expect(thread.ephemerals).toEqual([
      "--format png is only available on Seedream 5.0 Pro and Seedream 5.0 lite; Seedream 4.5 makes JPEG images.",
    ]);
    expect(thread.texts).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });
});

describe("--web", () => {
  it("on 5.0 lite sends the web_search tool and the summary counts the searches", async () => {
    fake.setScenario({ webSearches: 3 });
    const thread = new RecordingThread();
    await harness.handler.submit(incoming("today's skyline of Shanghai --model 5.0 --web"), thread);
    expect(fake.requests[0]?.body).toMatchObject({ tools: [{ type: "web_search" }] });
    expect(thread.lastStatus).toMatch(/^Done: image delivered, 3 web searches used/);
  });

  it("on 4.5 (and 5.0 Pro) is refused privately with no request", async () => {
    for (const model of ["4.5", "5.0-pro"]) {
      const thread = new RecordingThread({ ephemeral: true });
      await harness.handler.submit(incoming(`news --model ${model} --web`), thread);
      expect(thread.ephemerals[0]).toMatch(/^--web is only available on Seedream 5\.0 lite, not Seedream/);
    }
    expect(fake.requests).toHaveLength(0);
  });
});

describe("--fast, --ar and sizes per model", () => {
  it("--fast goes to 4.0 and 5.0 Pro; elsewhere a private refusal names the models that have it", async () => {
    await harness.handler.submit(incoming("quick --model 5.0-pro --fast"), new RecordingThread());
    expect(fake.requests[0]?.body).toMatchObject({ optimize_prompt_options: { mode: "fast" } });
    const thread = new RecordingThread({ ephemeral: true });
    await harness.handler.submit(incoming("quick --model 5.0 --fast"), thread);
    expect(thread.ephemerals).toEqual([
      "Fast mode is only available on Seedream 4.0 and Seedream 5.0 Pro, not Seedream 5.0 lite.",
    ]);
    expect(fake.requests).toHaveLength(1);
  });

  it("--ar 16:9 is each model's own size", async () => {
    await harness.handler.submit(incoming("wide --model 4.5 --ar 16:9"), new RecordingThread());
    await harness.handler.submit(incoming("wide --model 5.0 --ar 16:9"), new RecordingThread());
    await harness.handler.submit(incoming("wide --model 5.0 --ar 16:9 --size 3K"), new RecordingThread());
    expect(fake.requests.map((request) => request.body?.size)).toEqual([
      "2560x1440",
      "2848x1600",
      "4096x2304",
    ]);
  });

  it("1024x1024 on 4.5 and 5.0 is refused with the nearest accepted size; 4K on 5.0 lite with a sentence", async () => {
    const refusal = async (text: string) => {
      const thread = new RecordingThread({ ephemeral: true });
      await harness.handler.submit(incoming(text), thread);
      return thread.ephemerals[0];
    };
    expect(await refusal("x --model 4.5 --size 1024x1024")).toBe(
      "Seedream 4.5 needs at least 2560x1440 pixels; try --size 2K.",
    );
    expect(await refusal("x --model 5.0 --size 1024x576")).toBe(
      "Seedream 5.0 lite needs at least 2560x1440 pixels; try --size 2848x1600.",
    );
    expect(await refusal("x --model 5.0 --size 4K")).toBe(
      "Seedream 5.0 lite does not reliably make 4K images; use 3K (up to 3225x3225 pixels).",
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("help lists the provider's models with what each supports", async () => {
    const thread = new RecordingThread({ ephemeral: true });
    await harness.handler.submit(incoming("help"), thread);
    const help = thread.ephemerals[0] ?? "";
    expect(help).toContain(
      "• `5.0` Seedream 5.0 lite: sizes 2K, 3K, WxH; up to 14 references; groups; --format, --web",
    );
    expect(help).toContain(
      "• `5.0-pro` Seedream 5.0 Pro: sizes 1K, 2K, WxH; up to 10 references; one request per image; --fast, --format",
    );
    expect(help).not.toContain("`5.0-lite`");
  });
});

describe("every error code has its own sentence", () => {
  const cases: Array<[FakeScenario, string]> = [
    [
      { error: { status: 404, code: "ModelNotOpen" } },
      "The model doubao-seedream-4-5-251128 is not enabled on the bot's Seedream account: an admin can enable it in the provider's console or set SEEDREAM_MODEL to one that is; meanwhile try --model with another version",
    ],
    [
      { error: { status: 404, code: "InvalidEndpointOrModel.NotFound" } },
      "The model doubao-seedream-4-5-251128 is not enabled on the bot's Seedream account",
    ],
    [
      { error: { status: 403, code: "AccountOverdueError" } },
      "The bot's Seedream account is out of credit; an admin must top it up in the provider's console",
    ],
    [
      { error: { status: 400, code: "InputImageSensitiveContentDetected", param: "image[1]" } },
      "Seedream's content filter blocked reference image 2; try a different image",
    ],
    [
      { error: { status: 400, code: "SensitiveContentDetected" } },
      "Seedream's content filter blocked this request; try a different prompt",
    ],
    [
      { error: { status: 400, code: "SensitiveContentDetected.Violence" } },
      "Seedream's content filter blocked this request for violent content; try a different prompt",
    ],
    [
      { error: { status: 400, code: "OutputImageSensitiveContentDetected.PolicyViolation" } },
      "Seedream's content filter blocked the generated image as a likely copyright or policy violation; try a different prompt",
    ],
  ];
  for (const [scenario, sentence] of cases) {
    const code = "error" in scenario ? scenario.error.code : "";
    it(code, async () => {
      fake.setScenario(scenario);
      const thread = new RecordingThread();
      await harness.handler.submit(incoming("a cat"), thread);
      expect(thread.texts).toHaveLength(1);
      expect(thread.texts[0]?.startsWith(sentence)).toBe(true);
    });
  }

  const busy = [
    "RateLimitExceeded.EndpointRPMExceeded",
    "RateLimitExceeded.EndpointTPMExceeded",
    "ModelAccountIpmRateLimitExceeded",
    "ModelAccountRpmRateLimitExceeded",
    "AccountRateLimitExceeded",
    "InflightBatchsizeExceeded",
    "RequestBurstTooFast",
    "ServerOverloaded",
  ];
  for (const code of busy) {
    it(`${code}: retried before the first image, then "busy"`, async () => {
      fake.setScenario({ error: { status: 429, code } });
      const thread = new RecordingThread();
      await harness.handler.submit(incoming("a cat"), thread);
      expect(fake.requests).toHaveLength(1 + harness.config.seedream.maxRetries);
      expect(thread.texts[0]).toMatch(
        /^Seedream is busy right now \(rate limit reached\); please try again in a minute/,
      );
    });
  }

  it("an error inside a 200 body, and an error event inside a stream, read like their HTTP twins", async () => {
    const envelope = { error: { code: "AccountOverdueError", message: "overdue Request id: 0217twin00" } };
    fake.queue(
      { raw: { headers: { "content-type": "application/json" }, chunks: [JSON.stringify(envelope)] } },
      { raw: { chunks: [`event: error\ndata: ${JSON.stringify(envelope)}\n\n`] } },
    );
    const sentences: string[] = [];
    for (let i = 0; i < 2; i++) {
      const thread = new RecordingThread();
      await harness.handler.submit(incoming("a cat"), thread);
      sentences.push(thread.texts[0] ?? "");
    }
    const expected =
      "The bot's Seedream account is out of credit; an admin must top it up in the provider's console (request id 0217twin00).";
    expect(sentences).toEqual([expected, expected]);
  });
});
