import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { createGenerator } from "../../src/app.js";
import { parseConfig } from "../../src/config.js";
import { createDemoGenerator } from "../../src/demo/demo-generator.js";
import { SeedreamAbortedError, SeedreamValidationError } from "../../src/seedream/errors.js";
import type { GenerationEvent } from "../../src/seedream/types.js";
import { runCliInProcess } from "../helpers/in-process-cli.js";

const noWait = async () => {};

async function collect(events: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const all: GenerationEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function demo(random: () => number) {
  return createDemoGenerator({
    validate: (request) => ({ ...request, model: "demo" }),
    describeModel: () => "Demo",
    sleep: noWait,
    delayMs: () => 0,
    random,
  });
}

describe("demo provider", () => {
  it("yields one labelled JPEG per image in the requested aspect, then usage", async () => {
    const events = await collect(
      demo(() => 0.99).generate({ prompt: "a fox", maxImages: 3, size: "2560x1440" }),
    );
    expect(events.map((e) => e.type)).toEqual(["image", "image", "image", "completed"]);
    const hashes = new Set<string>();
    for (const event of events) {
      if (event.type !== "image") continue;
      const meta = await sharp(event.bytes).metadata();
      expect(meta).toMatchObject({ format: "jpeg", width: 1024, height: 576 });
      expect(event.size).toEqual({ width: 1024, height: 576 });
      hashes.add(event.bytes.toString("base64"));
    }
    expect(hashes.size).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: "completed", usage: { generatedImages: 3 } });
  });

  it("simulates a moderation block on one slot of a group and keeps going", async () => {
    const rolls = [0.5, 0.01, 0.5];
    const events = await collect(demo(() => rolls.shift() ?? 0.5).generate({ prompt: "x", maxImages: 3 }));
    expect(events.map((e) => (e.type === "completed" ? e.type : `${e.type}:${e.index}`))).toEqual([
      "image:0",
      "image_failed:1",
      "image:2",
      "completed",
    ]);
    expect(events[1]).toMatchObject({ kind: "moderation", code: "OutputImageSensitiveContentDetected" });
  });

  it("never blocks a single image, so a first try always shows something", async () => {
    const events = await collect(demo(() => 0).generate({ prompt: "x" }));
    expect(events.map((e) => e.type)).toEqual(["image", "completed"]);
  });

  it("stops when cancelled", async () => {
    const controller = new AbortController();
    const generator = createDemoGenerator({
      validate: (request) => ({ ...request, model: "demo" }),
      describeModel: () => "Demo",
    });
    const events = generator.generate({ prompt: "x" }, { signal: controller.signal });
    const iterator = events[Symbol.asyncIterator]();
    const next = iterator.next();
    controller.abort();
    await expect(next).rejects.toBeInstanceOf(SeedreamAbortedError);
  });

  it("teaches the real model's limits and names itself as a demo", () => {
    const generator = createGenerator(parseConfig({ SEEDREAM_PROVIDER: "demo" }));
    expect(generator.describeModel()).toBe("Seedream 4.5 (demo)");
    expect(() => generator.validate({ prompt: "x", size: "512x512" })).toThrow(SeedreamValidationError);
    expect(() => generator.validate({ prompt: "x", size: "512x512" })).toThrow(/2560x1440/);
  });
});

describe("demo provider through the console", () => {
  const dir = mkdtempSync(join(tmpdir(), "seedream-demo-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("works with no API key and saves a real image", async () => {
    const cli = runCliInProcess(["console", "--out", dir], {
      SEEDREAM_PROVIDER: "demo",
      SEEDREAM_DEMO_DELAY_MS: "0",
      STORE_URL: "memory://",
    });
    cli.send("a lighthouse at dawn");
    await cli.waitForLine(/^image 1\/1 saved /);
    expect(await cli.exit()).toBe(0);
    const [file] = readdirSync(dir);
    expect(file).toMatch(/\.jpe?g$/);
    expect((await sharp(readFileSync(join(dir, file ?? ""))).metadata()).format).toBe("jpeg");
    expect(cli.lines.join("\n")).toMatch(/status: .*demo/i);
  });
});
