// Bolt (and so undici 7) is loaded before anything of discord.js on purpose: that order once
// broke discord.js file uploads while its text still worked. This test keeps it honest.
import "@slack/bolt";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type RunningBot } from "../../src/main.js";
import { FakeDiscord } from "../fakes/discord.js";
import { sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { SlackEventSender } from "../fakes/slack-events.js";
import { freePort } from "../helpers/free-port.js";

const SEEDREAM_KEY = "sk-e2e-secret-0123456789";
const SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef";

let slackApi: FakeSlackApi;
let discord: FakeDiscord;
let seedream: FakeSeedream;
let bot: RunningBot;
let port: number;
let dataDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  [slackApi, discord, seedream, port] = await Promise.all([
    FakeSlackApi.start(),
    FakeDiscord.start(),
    startFakeSeedream(),
    freePort(),
  ]);
  dataDir = mkdtempSync(join(tmpdir(), "seedream-e2e-"));
  bot = await main(
    {
      SEEDREAM_API_KEY: SEEDREAM_KEY,
      SEEDREAM_BASE_URL: seedream.url,
      STORE_URL: `sqlite://${join(dataDir, "bot.sqlite")}`,
      PORT: String(port),
      LOG_LEVEL: "debug",
      SLACK_BOT_TOKEN: slackApi.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slackApi.apiUrl,
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: discord.guild.id,
    },
    { writeLog: (line) => logLines.push(line) },
  );
});

afterAll(async () => {
  seedream?.releaseAll();
  await bot?.stop();
  await Promise.allSettled([slackApi?.close(), discord?.close(), seedream?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the bot with Slack and Discord in one process", () => {
  it("reports both platforms healthy on GET /healthz", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      platforms: { slack: true, discord: true },
      store: true,
      notReady: [],
    });
  });

  it("streams images into a Slack thread and a Discord channel, uploads included", async () => {
    seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const sender = new SlackEventSender({
      appUrl: `http://127.0.0.1:${port}`,
      signingSecret: SIGNING_SECRET,
      api: slackApi,
    });
    const ack = await sender.slashCommand({ text: "two foxes --n 2", channelId: "C0E2E00001" });
    expect(ack.status).toBe(200);
    const slackUploads = await slackApi.recorder.waitFor("upload", 2, { channel: "C0E2E00001" });
    expect(slackUploads.map((u) => sha256(u.bytes))).toEqual([
      sha256(await seedream.imageBytes(0)),
      sha256(await seedream.imageBytes(1)),
    ]);

    seedream.setScenario({ images: [{ kind: "ok" }] });
    const sent = await discord.sendMessageCreate({ content: `${discord.mention(discord.bot)} one owl` });
    const image = await discord.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
    expect(sha256(image.uploads[0]?.bytes ?? Buffer.alloc(0))).toBe(sha256(await seedream.imageBytes(0)));
    expect(seedream.requests.map((r) => r.body?.prompt)).toEqual(["two foxes", "one owl"]);

    const everything = logLines.join("\n");
    for (const secret of [SEEDREAM_KEY, SIGNING_SECRET, slackApi.botToken, discord.token]) {
      expect(everything).not.toContain(secret);
    }
  });
});
