import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { downloadAttachment } from "../../src/core/download.js";
import { CancelledError, ReferenceImageError } from "../../src/core/errors.js";
import { DEFAULT_REFERENCE_RULES, normaliseImage } from "../../src/core/image-normalise.js";
import { prepareReferences } from "../../src/core/references.js";
import { pngClaiming } from "../helpers/png-header.js";
import { bytesAttachment, inspectDataUri, solidImage, streamingAttachment } from "./attachments.js";

const MB = 1024 * 1024;
const limits = { maxBytes: 10 * MB, timeoutMs: 10_000 };
const rules = { ...DEFAULT_REFERENCE_RULES, modelName: "Seedream 4.5" };

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ReferenceImageError);
    return (error as ReferenceImageError).userMessage;
  }
  throw new Error("expected a refusal");
}

describe("downloading references", () => {
  it("refuses a 20 MB file while streaming, without reading it all", async () => {
    const chunk = new Uint8Array(64 * 1024);
    const huge = streamingAttachment({
      name: "huge.png",
      chunks: function* () {
        for (let sent = 0; sent < 20 * MB; sent += chunk.byteLength) yield chunk;
      },
    });
    const message = await refusal(downloadAttachment(huge, limits));
    expect(message).toBe("“huge.png” is larger than 10 MB, the limit for reference images.");
    expect(huge.pulled).toBeGreaterThan(10 * MB);
    expect(huge.pulled).toBeLessThanOrEqual(10 * MB + chunk.byteLength);
    expect(huge.closed).toBe(true);
  });

  it("refuses a declared oversize file without fetching it", async () => {
    const declared = streamingAttachment({ name: "big.jpg", chunks: () => [], declared: { size: 20 * MB } });
    expect(await refusal(downloadAttachment(declared, limits))).toContain("larger than 10 MB");
    expect(declared.fetches).toBe(0);
  });

  it("refuses a stream whose declared length is over the cap before reading it", async () => {
    const chunk = new Uint8Array(1024);
    const lying = streamingAttachment({
      name: "big.jpg",
      chunks: () => [chunk],
      declared: { contentLength: 20 * MB },
    });
    expect(await refusal(downloadAttachment(lying, limits))).toContain("larger than 10 MB");
    expect(lying.pulled).toBe(0);
  });

  it("gives up on a stalled download after the timeout", async () => {
    const stalled = streamingAttachment({
      name: "slow.png",
      chunks: async function* () {
        yield new Uint8Array(10);
        await new Promise(() => {});
      },
    });
    expect(await refusal(downloadAttachment(stalled, { maxBytes: MB, timeoutMs: 50 }))).toContain(
      "Downloading “slow.png” took longer than",
    );
  });

  it("stops when the run is cancelled", async () => {
    const controller = new AbortController();
    const stalled = streamingAttachment({
      name: "slow.png",
      chunks: async function* () {
        controller.abort();
        yield new Uint8Array(10);
        await new Promise(() => {});
      },
    });
    await expect(
      downloadAttachment(stalled, { ...limits, signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
  });

  it("passes on an adapter's own explanation", async () => {
    const { BotError } = await import("../../src/errors.js");
    const failing = {
      name: "secret.png",
      fetch: async () => {
        throw new BotError("slack_scope", "missing scope", {
          userMessage: "Add the files:read scope to the app.",
        });
      },
    };
    await expect(downloadAttachment(failing, limits)).rejects.toMatchObject({
      userMessage: "Add the files:read scope to the app.",
    });
  });
});

describe("normalising references", () => {
  it("converts WebP to JPEG, keeping its size", async () => {
    const webp = await solidImage(640, 480, "webp");
    const result = await normaliseImage(webp, "photo.webp", rules);
    expect(result.converted).toBe(true);
    expect(result.dataUri.startsWith("data:image/jpeg;base64,")).toBe(true);
    expect(await inspectDataUri(result.dataUri)).toMatchObject({
      declared: "jpeg",
      format: "jpeg",
      width: 640,
      height: 480,
    });
  });

  it("converts a transparent WebP to PNG so the transparency survives", async () => {
    const webp = await solidImage(300, 200, "webp", { alpha: true });
    const result = await normaliseImage(webp, "sticker.webp", rules);
    expect(await inspectDataUri(result.dataUri)).toMatchObject({
      declared: "png",
      format: "png",
      width: 300,
      height: 200,
    });
  });

  it("sends a JPEG within the limits unchanged", async () => {
    const jpeg = await solidImage(800, 600, "jpeg");
    const result = await normaliseImage(jpeg, "photo.jpg", rules);
    expect(result.converted).toBe(false);
    expect(result.dataUri).toBe(`data:image/jpeg;base64,${jpeg.toString("base64")}`);
  });

  it("downscales an 8000x8000 photo to 6000x6000", async () => {
    // JPEG: sharp shrinks it while decoding, so it may exceed the 36 MP decode cap on paper.
    const big = await solidImage(8000, 8000, "jpeg");
    const result = await normaliseImage(big, "big.jpg", rules);
    expect(await inspectDataUri(result.dataUri)).toMatchObject({ width: 6000, height: 6000 });
  });

  it("refuses a decompression bomb from its header, naming its dimensions and the limit", async () => {
    const bomb = pngClaiming(30_000, 30_000);
    expect(bomb.byteLength).toBeLessThan(200_000);
    expect(await refusal(normaliseImage(bomb, "bomb.png", rules))).toBe(
      "“bomb.png” is 30000×30000 px; the limit is 6000×6000 (36 megapixels). Scale it down and try again.",
    );
    // A PNG cannot be shrunk while decoding: 8000×8000 is over the cap too.
    expect(await refusal(normaliseImage(pngClaiming(8000, 8000), "big.png", rules))).toMatch(
      /^“big\.png” is 8000×8000 px; the limit is 6000×6000/,
    );
  });

  it.each(["png", "jpeg"] as const)(
    "refuses a truncated %s that would otherwise be sent as is",
    async (format) => {
      const whole = await sharp({
        create: {
          width: 300,
          height: 200,
          channels: 3,
          background: "#888",
          noise: { type: "gaussian", mean: 128, sigma: 40 },
        },
      })
        .toFormat(format)
        .toBuffer();
      await expect(normaliseImage(whole, `whole.${format}`, rules)).resolves.toMatchObject({
        converted: false,
      });
      const cut = whole.subarray(0, Math.floor(whole.byteLength * 0.6));
      expect(await refusal(normaliseImage(cut, `cut.${format}`, rules))).toBe(
        `“cut.${format}” is damaged or incomplete (it does not decode to the end); attach it again, or export it anew.`,
      );
    },
  );

  it("re-encodes an image over the 10 MB byte limit to fit", async () => {
    const noisy = await sharp({
      create: {
        width: 2200,
        height: 2000,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 60 },
      },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noisy.byteLength).toBeGreaterThan(10 * MB);
    const result = await normaliseImage(noisy, "noise.png", rules);
    const inspected = await inspectDataUri(result.dataUri);
    expect(inspected.bytes).toBeLessThanOrEqual(10 * MB);
    expect(inspected.width / inspected.height).toBeCloseTo(2200 / 2000, 2);
  });

  it("refuses HTML bytes named .png", async () => {
    const html = Buffer.from(
      "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Log in</body></html>",
    );
    expect(await refusal(normaliseImage(html, "image.png", rules))).toContain("“image.png” isn't an image");
  });

  it("refuses bytes no decoder understands", async () => {
    const pdf = Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n");
    expect(await refusal(normaliseImage(pdf, "scan.png", rules))).toBe(
      "“scan.png” isn't an image; attach a JPEG, PNG or WebP file.",
    );
  });

  it("refuses a 10x10 image", async () => {
    const tiny = await solidImage(10, 10, "png");
    expect(await refusal(normaliseImage(tiny, "icon.png", rules))).toBe(
      "“icon.png” is too small (10x10 px): reference images must be larger than 14 px on each side.",
    );
  });

  it("refuses an aspect ratio of 1:20", async () => {
    const strip = await solidImage(40, 800, "png");
    expect(await refusal(normaliseImage(strip, "strip.png", rules))).toBe(
      "“strip.png” is too tall (1:20): Seedream 4.5 takes reference images from 1:16 to 16:1; crop it and try again.",
    );
  });

  it("applies the narrower 3.x aspect limit", async () => {
    const wide = await solidImage(800, 200, "png");
    await expect(normaliseImage(wide, "wide.png", { ...rules, maxAspect: 16 })).resolves.toBeDefined();
    expect(
      await refusal(normaliseImage(wide, "wide.png", { ...rules, maxAspect: 3, modelName: "SeedEdit 3.0" })),
    ).toContain("from 1:3 to 3:1");
  });

  it("prepares several references in order", async () => {
    const sources = [
      bytesAttachment("a.png", await solidImage(100, 50, "png")),
      bytesAttachment("b.webp", await solidImage(60, 90, "webp")),
      bytesAttachment("c.jpg", await solidImage(70, 70, "jpeg")),
    ];
    const prepared = await prepareReferences(sources, rules, limits);
    const shapes = await Promise.all(prepared.map((image) => inspectDataUri(image.dataUri)));
    expect(shapes.map(({ width, height, format }) => `${format} ${width}x${height}`)).toEqual([
      "png 100x50",
      "jpeg 60x90",
      "jpeg 70x70",
    ]);
  });
});
