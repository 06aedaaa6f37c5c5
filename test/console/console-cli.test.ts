import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { projectRoot, spawnCli } from "../helpers/child-process.js";
import { runCliInProcess } from "../helpers/in-process-cli.js";
import { looksSame, referencesOf } from "../helpers/thumbnail.js";

const API_KEY = "sk-console-test-secret";
let fake: FakeSeedream;
let dir: string;

beforeAll(async () => {
  fake = await startFakeSeedream();
  dir = mkdtempSync(join(tmpdir(), "seedream-console-"));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => fake.reset());

const env = (): Record<string, string> => ({
  SEEDREAM_API_KEY: API_KEY,
  SEEDREAM_BASE_URL: fake.url,
  STORE_URL: "memory://",
});

function startConsole() {
  return runCliInProcess(["console", "--out", join(dir, "out")], env());
}

function savedPath(line: string): string {
  const relativePath = line.match(/saved (\S+)/)?.[1] ?? "";
  return relativePath.startsWith("/") ? relativePath : join(projectRoot, relativePath);
}

describe("console adapter (runCli in-process, fake Seedream over HTTP)", () => {
  it("saves each image as it arrives, then edits one with `reply N` plus a --ref file", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const cli = startConsole();
    cli.send("a red fox in the snow --n 2");

    const first = await cli.waitForLine(/^image 1\/2 saved /);
    // The first image is on disk while the fake still holds the second one.
    expect(fake.wasSent(1)).toBe(false);
    fake.release(1);
    const second = await cli.waitForLine(/^image 2\/2 saved /);
    expect(sha256(readFileSync(savedPath(first)))).toBe(sha256(await fake.imageBytes(0)));
    expect(sha256(readFileSync(savedPath(second)))).toBe(sha256(await fake.imageBytes(1)));
    expect((await fake.request(0)).body).toMatchObject({ prompt: "a red fox in the snow", stream: true });

    const extra = join(dir, "extra.png");
    writeFileSync(
      extra,
      await sharp({ create: { width: 300, height: 200, channels: 3, background: "#00f" } })
        .png()
        .toBuffer(),
    );
    fake.setScenario({ images: [{ kind: "ok" }] });
    cli.send(`reply 2 make it blue --ref ${extra}`);
    await cli.waitForLine(/^image 1\/1 saved /);
    const edit = await fake.request(1);
    const references = edit.body?.image as string[];
    expect(references).toHaveLength(2);
    // The replied image comes first, then the attached file, both as data: URIs.
    const [replied, attached] = references.map((uri) => Buffer.from(uri.split(",")[1] ?? "", "base64"));
    expect((await sharp(replied).metadata()).width).toBe(64);
    expect(await sharp(attached).metadata()).toMatchObject({ width: 300, height: 200 });
    expect(edit.body?.prompt).toBe("make it blue");

    expect(await cli.exit()).toBe(0);
    expect(cli.lines.join("\n") + cli.stderr()).not.toContain(API_KEY);
  });

  it("`again N`, `vary N` and `edit N <text>` follow up on image N of the last run", async () => {
    const photo = join(dir, "photo.png");
    writeFileSync(
      photo,
      await sharp({ create: { width: 120, height: 80, channels: 3, background: "#0a0" } })
        .png()
        .toBuffer(),
    );
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const cli = startConsole();
    // Each run ends with one summary line; a follow-up needs the run before it answered.
    const summaries = async (n: number) => {
      while (cli.lines.filter((line) => /^status: (Done|Failed|Cancelled)/.test(line)).length < n) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    cli.send(`two herons --n 2 --ref ${photo}`);
    await summaries(1);
    const first = await fake.request(0);

    cli.send("again 2");
    await summaries(2);
    const again = await fake.request(1);
    expect(again.body?.prompt).toBe("two herons");
    expect(referencesOf(again)).toEqual(referencesOf(first));

    cli.send("vary 1");
    await summaries(3);
    const vary = await fake.request(2);
    expect(vary.body).toMatchObject({
      prompt: "two herons",
      sequential_image_generation_options: { max_images: 2 },
    });
    expect(await looksSame(referencesOf(vary)[0] ?? "", await fake.imageBytes(0))).toBe(true);

    fake.setScenario({ images: [{ kind: "ok" }] });
    cli.send("edit 2 at night");
    await summaries(4);
    const edit = await fake.request(3);
    expect(edit.body?.prompt).toBe("at night");
    expect(referencesOf(edit)).toHaveLength(1);
    cli.send("again 7");
    await cli.waitForLine(/has no image 7/);
    expect(await cli.exit()).toBe(0);
  });

  it("answers bad input with a friendly line and keeps going", async () => {
    fake.setScenario({ images: [{ kind: "ok" }] });
    const cli = startConsole();
    cli.send("a cat --n 99");
    await cli.waitForLine(/--n/);
    cli.send("a cat --ref /nonexistent/file.png");
    await cli.waitForLine(/can't read \/nonexistent\/file\.png/);
    cli.send("a cat");
    await cli.waitForLine(/^image 1\/1 saved /);
    expect(fake.requests).toHaveLength(1);
    expect(await cli.exit()).toBe(0);
  });
});

describe("console adapter (real child process)", () => {
  it("`exit` closes the input and ends the process while stdin stays open", async () => {
    fake.setScenario({ images: [{ kind: "ok" }] });
    const cli = spawnCli(["console", "--out", join(dir, "exit")], env());
    cli.send("a lighthouse at dawn");
    await cli.waitForLine(/^image 1\/1 saved /);
    cli.send("exit");
    // stdin is never ended here: only `exit` can end the process.
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 10_000));
    expect(await Promise.race([cli.exited, timeout])).toBe(0);
    expect(cli.lines.join("\n") + cli.stderr()).not.toContain(API_KEY);
    cli.child.kill();
  });
});
