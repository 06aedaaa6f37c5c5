import { describe, expect, it } from "vitest";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { type Harness, incoming, useHarness } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/** Live delivery through the real client against the fake Seedream server. */

let fake: FakeSeedream;
let harness: Harness;

useHarness((started, wired) => {
  fake = started;
  harness = wired;
});

describe("a generation run", () => {
  it("posts images in arrival order, labelled by their index, with the API's bytes", async () => {
    fake.setScenario({
      images: [
        { kind: "ok", index: 1 },
        { kind: "ok", index: 0 },
        { kind: "ok", index: 2 },
      ],
    });
    const thread = new RecordingThread();
    const result = await harness.handler.submit(incoming("three foxes in the snow --n 3"), thread);

    expect(result.outcome).toBe("completed");
    expect(thread.images.map((image) => image.caption)).toEqual(["2/3", "1/3", "3/3"]);
    for (const image of thread.images) {
      const index = Number(image.caption.split("/")[0]) - 1;
      expect(image.bytes.equals(await fake.imageBytes(index))).toBe(true);
      expect(image.mimeType).toBe("image/jpeg");
      expect(image.altText).toBe("three foxes in the snow");
      expect(image.fileName).toMatch(new RegExp(`-${index + 1}\\.jpg$`));
    }
    expect(thread.statuses[0]).toBe("Generating 3 images with Seedream 4.5…");
    expect(thread.lastStatus).toBe("Done: 3 of 3 images delivered (0 s).");
    expect(thread.texts).toEqual([]);

    const body = fake.requests[0]?.body;
    expect(body).toMatchObject({
      prompt: "three foxes in the snow",
      sequential_image_generation: "auto",
      sequential_image_generation_options: { max_images: 3 },
      watermark: false,
      stream: true,
    });
  });

  it("posts the first image before the fake sends the second", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const thread = new RecordingThread();
    const running = harness.handler.submit(incoming("two herons --n 2"), thread);

    const first = await thread.waitFor((event) => event.kind === "image");
    expect(first).toMatchObject({ kind: "image", caption: "1/2" });
    await fake.reached(1);
    expect(fake.wasSent(1)).toBe(false);
    await thread.waitFor(
      (event) => event.kind === "status" && event.text === "Generating 2 images with Seedream 4.5… 1/2 done",
    );
    expect(fake.wasSent(1)).toBe(false);

    harness.clock.advance(73_000);
    fake.release(1);
    await running;
    expect(thread.images.map((image) => image.caption)).toEqual(["1/2", "2/2"]);
    expect(thread.lastStatus).toBe("Done: 2 of 2 images delivered (1 min 13 s).");
  });

  it("asks Seedream while its status is still being posted, and shows nothing before the status", async () => {
    // Under load a status post waits behind every other run's; the request must not wait with it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    class SlowStatusThread extends RecordingThread {
      private first = true;
      override async updateStatus(text: string): Promise<void> {
        if (this.first) {
          this.first = false;
          await held;
        }
        return super.updateStatus(text);
      }
    }
    fake.setScenario({ images: [{ kind: "ok" }] });
    const thread = new SlowStatusThread();
    const running = harness.handler.submit(incoming("a lantern at dusk"), thread);

    await fake.sent(0);
    expect(thread.events).toEqual([]);
    release();
    const result = await running;

    expect(result.outcome).toBe("completed");
    expect(thread.events[0]).toEqual({ kind: "status", text: "Generating an image with Seedream 4.5…" });
    expect(thread.events.findIndex((event) => event.kind === "image")).toBeGreaterThan(0);
    expect(thread.lastStatus).toBe("Done: image delivered (0 s).");
  });

  it("posts a blocked image inline at its position and goes on", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }] });
    const thread = new RecordingThread();
    await harness.handler.submit(incoming("a crowded market --n 3"), thread);

    expect(thread.transcript).toEqual([
      "[image 1/3]",
      "Image 2/3 was blocked by Seedream's content filter.",
      "[image 3/3]",
    ]);
    expect(thread.lastStatus).toBe("Done: 2 of 3 images delivered, 1 blocked by the content filter (0 s).");
  });

  it("says so when an internal error stops the images after it", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "internal" }, { kind: "ok" }, { kind: "ok" }] });
    const thread = new RecordingThread();
    const result = await harness.handler.submit(incoming("four seasons --n 4"), thread);

    expect(result.outcome).toBe("completed");
    expect(thread.transcript).toEqual([
      "[image 1/4]",
      "Image 2/4 failed with an internal error at Seedream, so the images after it were not generated.",
    ]);
    expect(thread.lastStatus).toBe("Done: 1 of 4 images delivered, 1 failed (0 s).");
  });

  it("rides out a 429 and then delivers", async () => {
    fake.queue({ error: { status: 429, code: "RateLimitExceeded.EndpointIPM" } });
    const thread = new RecordingThread();
    const result = await harness.handler.submit(incoming("a quiet harbour"), thread);

    expect(result.outcome).toBe("completed");
    expect(fake.requests).toHaveLength(2);
    expect(harness.clientSleeps.length).toBeGreaterThan(0);
    expect(thread.transcript).toEqual(["[image 1/1]"]);
    expect(thread.lastStatus).toBe("Done: image delivered (0 s).");
  });

  it("retries a failed image post, then reports it and goes on with the rest", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const flaky = new RecordingThread({ failImagePosts: 1 });
    await harness.handler.submit(incoming("two kites --n 2"), flaky);
    expect(flaky.transcript).toEqual(["[image 1/2]", "[image 2/2]"]);
    expect(flaky.imageAttempts).toBe(3);

    harness.sleeps.length = 0;
    const broken = new RecordingThread({ failImagePosts: 3 });
    await harness.handler.submit(incoming("two kites --n 2"), broken);
    expect(broken.transcript).toEqual([
      "Image 1/2 was generated but could not be posted here.",
      "[image 2/2]",
    ]);
    expect(harness.sleeps).toEqual([500, 1000]);
    expect(broken.lastStatus).toBe("Done: 1 of 2 images delivered, 1 failed (0 s).");
  });

  it("re-encodes an image too large for the platform's upload limit", async () => {
    const sharp = (await import("sharp")).default;
    const large = await sharp({
      create: {
        width: 900,
        height: 900,
        channels: 3,
        background: "#000",
        noise: { type: "gaussian", mean: 120, sigma: 50 },
      },
    })
      .png()
      .toBuffer();
    fake.setScenario({ images: [{ kind: "ok", bytes: large }] });
    const thread = new RecordingThread({ maxUploadBytes: 200 * 1024 });
    await harness.handler.submit(incoming("static"), thread);

    const [image] = thread.images;
    expect(large.byteLength).toBeGreaterThan(200 * 1024);
    expect(image?.bytes.byteLength).toBeLessThanOrEqual(200 * 1024);
    expect(image?.mimeType).toBe("image/jpeg");
    expect((await sharp(image?.bytes).metadata()).format).toBe("jpeg");
  });

  it("stops when the user cancels, and hangs up on Seedream", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const thread = new RecordingThread();
    const request = incoming("a long procession --n 2");
    const running = harness.handler.submit(request, thread);
    await thread.waitFor((event) => event.kind === "image");
    await fake.reached(1);

    const cancelThread = new RecordingThread();
    await harness.handler.submit({ ...request, text: "cancel" }, cancelThread);
    expect(cancelThread.texts).toEqual(["Cancelled."]);

    const result = await running;
    expect(result.outcome).toBe("cancelled");
    expect(await fake.closed(0)).toBe("aborted");
    expect(thread.transcript).toEqual(["[image 1/2]"]);
    expect(thread.lastStatus).toBe("Cancelled: 1 of 2 images delivered (0 s).");
  });
});
