import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { spawnCli } from "../helpers/child-process.js";
import { runCliInProcess } from "../helpers/in-process-cli.js";

const API_KEY = "sk-cli-test-0c9d2e7a";
let fake: FakeSeedream;
let workDir: string;

beforeAll(async () => {
  fake = await startFakeSeedream();
  workDir = await mkdtemp(join(tmpdir(), "seedream-cli-"));
});
beforeEach(() => fake.reset());
afterAll(async () => {
  await fake.close();
  await rm(workDir, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({
  SEEDREAM_API_KEY: API_KEY,
  SEEDREAM_BASE_URL: fake.url,
  STORE_URL: "memory://",
});

describe("seedream-bot generate", () => {
  it("saves and reports each image as it arrives, before the last one is even sent", async () => {
    const out = join(workDir, "stream");
    const reference = join(workDir, "ref.png");
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();
    await writeFile(reference, png);
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok", gate: true }] });

    const run = runCliInProcess(
      ["generate", "three foxes", "--n", "3", "--size", "2K", "--ref", reference, "--out", out],
      env(),
    );
    const first = await run.waitForLine(/^image 1\/3/);
    expect(first).toMatch(new RegExp(`^image 1/3 saved ${out}/.+-1\\.jpeg 2048x2048$`));
    await run.waitForLine(/^image 2\/3/);
    // The first lines are out while the fake still holds the last image.
    expect(fake.wasSent(2)).toBe(false);
    fake.release(2);

    expect(await run.exited).toBe(0);
    expect(run.lines.slice(1)).toEqual([
      first,
      expect.stringMatching(/^image 2\/3 blocked by moderation: The request failed because the output image/),
      expect.stringMatching(/^image 3\/3 saved .+-3\.jpeg 2048x2048$/),
      "done: 2 images saved",
    ]);
    const files = (await readdir(out)).sort();
    expect(files).toHaveLength(2);
    const hashes = await Promise.all(files.map(async (file) => sha256(await readFile(join(out, file)))));
    expect(hashes).toEqual([sha256(await fake.imageBytes(0)), sha256(await fake.imageBytes(2))]);

    expect(fake.requests[0]?.body).toMatchObject({
      prompt: "three foxes",
      size: "2K",
      image: `data:image/png;base64,${png.toString("base64")}`,
      sequential_image_generation_options: { max_images: 3 },
      watermark: false,
    });
  });

  it("exits non-zero with the human message, never the key, when the API refuses", async () => {
    fake.setScenario({
      error: { status: 401, code: "AuthenticationError", message: `Incorrect API key provided: ${API_KEY}.` },
    });
    const run = runCliInProcess(["generate", "a fox", "--out", join(workDir, "denied")], env());
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(
      "error: Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY (request id 0217fake00000000).",
    );
    expect(run.stderr() + run.lines.join("\n")).not.toContain(API_KEY);
  });

  it("explains an impossible size without calling the API", async () => {
    const run = runCliInProcess(
      ["generate", "a fox", "--size", "1024x1024", "--out", join(workDir, "small")],
      env(),
    );
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain("Seedream 4.5 needs at least 2560x1440 pixels; try --size 2K.");
    expect(fake.requests).toHaveLength(0);
  });

  it("reads the chat flags --ar, --fast, --watermark and --model exactly as chat does", async () => {
    fake.setScenario({ images: [{ kind: "ok" }] });
    const run = runCliInProcess(
      [
        "generate",
        "a fox",
        "--ar",
        "16:9",
        "--fast",
        "--watermark",
        "--model",
        "4.0",
        "--out",
        join(workDir, "flags"),
      ],
      env(),
    );
    expect(await run.exited).toBe(0);
    expect(fake.requests[0]?.body).toMatchObject({
      model: "doubao-seedream-4-0-250828",
      prompt: "a fox",
      size: "2560x1440",
      watermark: true,
      optimize_prompt_options: { mode: "fast" },
    });
  });

  it("answers a flag mistake with the chat's own sentence, before any call", async () => {
    const run = runCliInProcess(["generate", "a fox", "--n", "99", "--out", join(workDir, "n")], env());
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('--n must be a whole number from 1 to 15 (got "99").');
    const fast = runCliInProcess(["generate", "a fox", "--fast", "--out", join(workDir, "n")], env());
    expect(await fast.exited).toBe(2);
    expect(fast.stderr()).toMatch(/fast mode.*4\.0/i);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a --ref that is not an image, as the bot does, without calling the API", async () => {
    const notes = join(workDir, "notes.png");
    await writeFile(notes, "shopping list: eggs, milk\n");
    const run = runCliInProcess(["generate", "a fox", "--ref", notes, "--out", join(workDir, "text")], env());
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain("“notes.png” isn't an image; attach a JPEG, PNG or WebP file.");
    expect(fake.requests).toHaveLength(0);
  });

  it("downscales a --ref photo over the API's 36 MP input limit, as the bot does", async () => {
    const photo = join(workDir, "huge.jpg");
    await writeFile(
      photo,
      await sharp({ create: { width: 8000, height: 6000, channels: 3, background: "#88aa44" } })
        .jpeg()
        .toBuffer(),
    );
    fake.setScenario({ images: [{ kind: "ok" }] });
    const run = runCliInProcess(["generate", "a fox", "--ref", photo, "--out", join(workDir, "huge")], env());
    expect(await run.exited).toBe(0);
    const sent = String(fake.requests[0]?.body?.image ?? "");
    expect(sent).toMatch(/^data:image\/jpeg;base64,/);
    const meta = await sharp(Buffer.from(sent.split(",")[1] ?? "", "base64")).metadata();
    expect(meta.width * meta.height).toBeLessThanOrEqual(6000 * 6000);
    expect(meta.width / meta.height).toBeCloseTo(8000 / 6000, 2);
  });
});

describe("seedream-bot generate (real child process)", () => {
  it("works with SEEDREAM_PROVIDER=demo and no key", async () => {
    const out = join(workDir, "demo");
    const run = spawnCli(["generate", "a lighthouse at dawn", "--out", out], {
      SEEDREAM_PROVIDER: "demo",
      SEEDREAM_DEMO_DELAY_MS: "0",
      STORE_URL: "memory://",
    });
    expect(await run.exited).toBe(0);
    expect(run.lines).toEqual([
      "generating 1 image with Seedream 4.5 (demo)…",
      expect.stringMatching(/^image 1\/1 saved .+-1\.jpeg 1024x1024$/),
      "done: 1 image saved",
    ]);
    const [file] = await readdir(out);
    expect((await sharp(await readFile(join(out, file ?? ""))).metadata()).format).toBe("jpeg");
  });
});
