import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FIRST_RUN_BANNER, NOT_CONFIGURED } from "../../src/first-run.js";
import { main, type RunningBot } from "../../src/main.js";
import { NO_PLATFORM } from "../../src/ops/readiness.js";
import { FakeDiscord } from "../fakes/discord.js";
import { projectRoot } from "../helpers/child-process.js";
import { freePort } from "../helpers/free-port.js";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function readyz(port: number): Promise<{ status: number; body: { ok: boolean; notReady: string[] } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { ok: boolean; notReady: string[] } };
}

async function untilListening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await fetch(`http://127.0.0.1:${port}/livez`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

describe("start-up as an operator sees it", () => {
  it("/readyz is 503 while Discord logs in and 200 once it is connected", async () => {
    const discord = await FakeDiscord.start();
    cleanups.push(() => discord.close());
    const release = discord.holdReady();
    const port = await freePort();
    const starting = main(
      {
        SEEDREAM_PROVIDER: "demo",
        STORE_URL: "memory://",
        PORT: String(port),
        HOST: "127.0.0.1",
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        DISCORD_GUILD_ID: discord.guild.id,
      },
      { writeLog: () => {} },
    );
    cleanups.push(async () => (await starting.catch(() => undefined))?.stop());
    await untilListening(port);
    expect(await readyz(port)).toEqual({
      status: 503,
      body: { ok: false, platforms: { discord: false }, store: true, notReady: ["discord: starting"] },
    });
    release();
    const bot = await starting;
    expect(await readyz(port)).toEqual({
      status: 200,
      body: { ok: true, platforms: { discord: true }, store: true, notReady: [] },
    });
    await bot.runtime.store.close();
    const closed = await readyz(port);
    expect(closed.status).toBe(503);
    expect(closed.body.notReady).toEqual(["store: closed"]);
  });

  it("with nothing configured and no terminal it stays a server, says why in its log and on /readyz", async () => {
    const port = await freePort();
    const lines: string[] = [];
    const bot: RunningBot = await main(
      { PORT: String(port), HOST: "127.0.0.1", STORE_URL: "memory://" },
      { writeLog: (line) => lines.push(line), terminal: false },
    );
    cleanups.push(() => bot.stop());
    const entries = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(entries.filter((e) => e.level === "warn").map((e) => e.msg)).toEqual([
      `seedream-bot is ${NOT_CONFIGURED}; /readyz answers 503 until then.`,
    ]);
    expect(await readyz(port)).toEqual({
      status: 503,
      body: { ok: false, platforms: {}, store: true, notReady: [NOT_CONFIGURED, NO_PLATFORM] },
    });
    expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });

  it("with nothing configured on a terminal it opens the console on the demo provider", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "seedream-first-run-"));
    cleanups.push(() => rmSync(cwd, { recursive: true, force: true }));
    const tsx = pathToFileURL(join(projectRoot, "node_modules/tsx/dist/loader.mjs")).href;
    const command = `${process.execPath} --import ${tsx} ${join(projectRoot, "src/main.ts")}`;
    // `script` gives the child a real pseudo-terminal, as `npm start` in a shell would have.
    const child: ChildProcess = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: cwd,
        NO_COLOR: "1",
        TERM: "dumb",
        SEEDREAM_DEMO_DELAY_MS: "0",
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    cleanups.push(() => child.kill());
    let output = "";
    let stderrText = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderrText += chunk;
    });
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk.replaceAll("\r", "");
    });
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 400 && !pattern.test(output); i++) await new Promise((r) => setTimeout(r, 50));
      expect(output + stderrText).toMatch(pattern);
    };
    await waitFor(/seedream-bot console\./);
    const shown = output.split("\n");
    const bannerAt = shown.indexOf(FIRST_RUN_BANNER[0]);
    expect(bannerAt).toBeGreaterThanOrEqual(0);
    expect(shown.slice(bannerAt, bannerAt + 3)).toEqual([...FIRST_RUN_BANNER]);
    child.stdin?.write("a lighthouse at dusk\n");
    await waitFor(/image 1\/1 saved \S+/);
    child.stdin?.write("exit\n");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(readdirSync(join(cwd, "out")).length).toBe(1);
    // Nothing written but the image: the demo's store is in memory.
    expect(existsSync(join(cwd, "data"))).toBe(false);
  }, 40_000);
});
