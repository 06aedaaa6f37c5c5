import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGenerator } from "../../src/app.js";
import { parseConfig } from "../../src/config.js";
import { imagesInFlight } from "../../src/core/decode-slots.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";

/**
 * The bot's generator holds each streamed image in one of the process-wide slots until its
 * consumer asks for the next event (issue 15, goal 5): with more runs than slots whose images
 * arrive at once, the extra ones wait unread, and each one posted lets the next in.
 */

let seedream: FakeSeedream;
beforeAll(async () => {
  seedream = await startFakeSeedream();
});
afterAll(async () => {
  await seedream?.close();
});

/** Polls `condition` (a guard for a failing test, never a timing assertion). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("images in flight across the bot's streams", () => {
  it("lets as many streamed images through as it has slots; the next one when an image is done", async () => {
    // Past the 256 KiB after which an event waits for a slot (the client only decodes; the run checks).
    const bytes = Buffer.alloc(400_000, 7);
    seedream.setScenario({ images: [{ kind: "ok", bytes }] });
    const generator = createGenerator(
      parseConfig({
        SEEDREAM_API_KEY: "sk-test-0123456789",
        SEEDREAM_BASE_URL: seedream.url,
        SEEDREAM_MAX_RETRIES: "0",
      }),
    );
    const runs = imagesInFlight.size + 2;
    const streams = Array.from({ length: runs }, (_, i) =>
      generator.generate({ prompt: `fox ${i}`, responseFormat: "b64_json" })[Symbol.asyncIterator](),
    );
    try {
      const firsts = streams.map((stream) => {
        const step = { done: false, type: "" };
        void stream.next().then((result) => {
          step.done = true;
          step.type = result.value?.type ?? "end";
        });
        return step;
      });
      await until(() => firsts.filter((step) => step.done).length >= imagesInFlight.size, "the first images");
      await new Promise((resolve) => setTimeout(resolve, 200));
      // As many images as slots; the other streams wait for one, unread.
      expect(firsts.filter((step) => step.done).map((step) => step.type)).toEqual(
        Array(imagesInFlight.size).fill("image"),
      );
      expect(imagesInFlight.queued).toBe(2);
      // One run is done with its image (asks for the next event): a waiting stream gets its slot.
      const done = firsts.findIndex((step) => step.done);
      expect((await streams[done]?.next())?.value?.type).toBe("completed");
      expect(imagesInFlight.queued).toBe(1);
      await until(
        () => firsts.filter((step) => step.done).length === imagesInFlight.size + 1,
        "the next image",
      );
    } finally {
      await Promise.all(streams.map((stream) => stream.return?.()));
      await generator.close?.();
    }
    expect(imagesInFlight.inUse).toBe(0);
  });
});
