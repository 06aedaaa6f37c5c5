import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";

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

interface Run {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching `pattern`. */
  line: (pattern: RegExp) => Promise<string>;
  exit: Promise<number | null>;
}

function runCli(args: string[]): Run {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(SEEDREAM_|SLACK_|DISCORD_|DEFAULT_)/.test(key)) env[key] = value;
  }
  Object.assign(env, { SEEDREAM_API_KEY: API_KEY, SEEDREAM_BASE_URL: fake.url, STORE_URL: "memory://" });
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/index.ts", ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  createInterface({ input: child.stdout as NonNullable<typeof child.stdout> }).on("line", (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    line: (pattern) => {
      const found = lines.find((line) => pattern.test(line));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exit.then(() => reject(new Error(`CLI exited without printing ${pattern}; stderr: ${stderr}`)));
      });
    },
    exit,
  };
}

describe("seedream-bot generate", () => {
  it("saves and reports each image as it arrives, before the last one is even sent", async () => {
    const out = join(workDir, "stream");
    const reference = join(workDir, "ref.png");
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();
    await writeFile(reference, png);
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok", gate: true }] });

    const run = runCli([
      "generate",
      "three foxes",
      "--n",
      "3",
      "--size",
      "2K",
      "--ref",
      reference,
      "--out",
      out,
    ]);
    const first = await run.line(/^image 1\/3/);
    expect(first).toMatch(new RegExp(`^image 1/3 saved ${out}/.+-1\\.jpeg 2048x2048$`));
    await run.line(/^image 2\/3/);
    // The first lines are out while the fake still holds the last image.
    expect(fake.wasSent(2)).toBe(false);
    fake.release(2);

    expect(await run.exit).toBe(0);
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
    const run = runCli(["generate", "a fox", "--out", join(workDir, "denied")]);
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toContain(
      "error: Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY (request id 0217fake00000000).",
    );
    expect(run.stderr() + run.lines.join("\n")).not.toContain(API_KEY);
  });

  it("explains an impossible size without calling the API", async () => {
    const run = runCli(["generate", "a fox", "--size", "1024x1024", "--out", join(workDir, "small")]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain("Seedream 4.5 needs at least 2560x1440 pixels; try --size 2K.");
    expect(fake.requests).toHaveLength(0);
  });
});
