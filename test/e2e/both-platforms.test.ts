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
import { family, histogramCount, parsePrometheus, sampleValue } from "../helpers/prometheus.js";

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
      LOG_FORMAT: "json",
      SEEDREAM_MAX_RETRIES: "0",
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

async function scrape() {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheus(await response.text());
}

describe("operating the bot (/metrics and JSON logs after real runs)", () => {
  it("counts in /metrics exactly what the users saw delivered, blocked and failed", async () => {
    const sender = new SlackEventSender({
      appUrl: `http://127.0.0.1:${port}`,
      signingSecret: SIGNING_SECRET,
      api: slackApi,
    });
    // Counted from here: the runs of the tests above are in the totals already.
    await bot.runtime.handler.idle();
    const before = await scrape();
    const auditsBefore = logLines.filter((line) => line.includes('"audit":true')).length;
    expect(auditsBefore).toBe(2);

    // Slack: 3 asked, the second blocked by moderation.
    seedream.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }] });
    await sender.slashCommand({ text: "three foxes --n 3", channelId: "C0OPS00001" });
    const [parent] = await slackApi.recorder.waitFor(
      "message",
      1,
      (m) => m.channel === "C0OPS00001" && !m.threadTs,
    );
    await slackApi.recorder.waitFor("update", 1, {
      ts: parent?.ts ?? "",
      text: /Done: 2 of 3 images delivered/,
    });
    const slackThread = slackApi.thread("C0OPS00001", parent?.ts ?? "");
    const slackDelivered = slackThread.filter((r) => r.kind === "upload").length;
    const slackBlocked = slackThread.filter(
      (r) => r.kind === "message" && /blocked/.test(r.text ?? ""),
    ).length;
    expect([slackDelivered, slackBlocked]).toEqual([2, 1]);

    // Discord: one image.
    seedream.setScenario({ images: [{ kind: "ok" }] });
    const sent = await discord.sendMessageCreate({ content: `${discord.mention(discord.bot)} one owl` });
    await discord.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);

    // Slack again: the API refuses the request, echoing secrets in its `param` and message (the
    // client scrubs its own key from errors; the bot tokens only the logger knows).
    seedream.queue({
      error: {
        status: 400,
        code: "InvalidParameter",
        param: slackApi.botToken,
        message: `bad value ${SEEDREAM_KEY} near ${discord.token}`,
      },
    });
    await sender.slashCommand({ text: "a broken bridge", channelId: "C0OPS00002" });
    const [second] = await slackApi.recorder.waitFor(
      "message",
      1,
      (m) => m.channel === "C0OPS00002" && !m.threadTs,
    );
    const [refusal] = await slackApi.recorder.waitFor("message", 1, {
      channel: "C0OPS00002",
      threadTs: second?.ts,
    });
    expect(refusal?.text).not.toContain(SEEDREAM_KEY);
    await bot.runtime.handler.idle();

    const metrics = await scrape();
    const added = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(metrics, name, labels) - sampleValue(before, name, labels);
    const images = (platform: string, outcome: string) =>
      added("seedream_images_total", { platform, model: "seedream-4.5", outcome });
    expect(images("slack", "delivered")).toBe(slackDelivered);
    expect(images("slack", "blocked")).toBe(slackBlocked);
    expect(images("slack", "failed")).toBe(0);
    expect(images("discord", "delivered")).toBe(1);
    expect(added("seedream_runs_total", { platform: "slack", outcome: "completed" })).toBe(1);
    expect(added("seedream_runs_total", { platform: "slack", outcome: "failed" })).toBe(1);
    expect(added("seedream_runs_total", { platform: "discord", outcome: "completed" })).toBe(1);
    expect(added("seedream_api_errors_total", { code: "invalid_parameter" })).toBe(1);
    // Two runs showed a first image; three images were posted.
    const observed = (name: string) => histogramCount(metrics, name) - histogramCount(before, name);
    expect(observed("seedream_time_to_first_image_seconds")).toBe(2);
    expect(observed("seedream_image_delivery_seconds")).toBe(3);
    expect(sampleValue(metrics, "seedream_queue_depth")).toBe(0);
    expect(sampleValue(metrics, "seedream_runs_in_progress")).toBe(0);
    // Ark's Seedream 4.5 at ¥0.25 an image, three delivered.
    expect(added("seedream_estimated_cost_total", { currency: "CNY" })).toBeCloseTo(0.75, 6);
    expect(family(metrics, "process_cpu_user_seconds_total").metrics.length).toBe(1);
    // Nothing a user typed or is called becomes a label.
    const labels = metrics.flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
    for (const value of labels) expect(value).not.toMatch(/fox|owl|bridge|U0|C0OPS/);
  });

  it("writes one JSON object per line, one audit line per run, and no secret anywhere", () => {
    expect(logLines.length).toBeGreaterThan(10);
    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) {
      expect(typeof entry.level).toBe("string");
      expect(Number.isNaN(Date.parse(String(entry.time)))).toBe(false);
      expect(typeof entry.msg).toBe("string");
    }
    // One per run: the two of the first test, then the three of this block's.
    expect(entries.filter((e) => e.audit === true)).toHaveLength(5);
    const audits = entries.filter((e) => e.audit === true).slice(2);
    expect(audits.map((a) => [a.platform, a.outcome, a.asked, a.delivered, a.blocked])).toEqual([
      ["slack", "completed", 3, 2, 1],
      ["discord", "completed", 1, 1, 0],
      ["slack", "failed", 1, 0, 0],
    ]);
    expect(audits[0]).toMatchObject({
      team: slackApi.teamId,
      user: slackApi.userId,
      model: expect.stringMatching(/seedream-4-5/),
      estimatedCost: { amount: 0.5, currency: "CNY" },
      durationMs: expect.any(Number),
    });
    expect(audits[1]).toMatchObject({
      team: discord.guild.id,
      estimatedCost: { amount: 0.25, currency: "CNY" },
    });
    expect(audits[2]).toMatchObject({ code: "invalid_parameter", requestId: expect.any(String) });
    // Lines of a run carry its id and platform, bound once.
    const started = entries.filter((e) => e.msg === "run started");
    expect(started).toHaveLength(5);
    for (const entry of started)
      expect(entry).toMatchObject({ runId: expect.any(String), platform: expect.any(String) });
    // Prompts stay out of the log above debug (the audit line has ids and counts, not words).
    const visible = logLines.filter((_line, i) => entries[i]?.level !== "debug").join("\n");
    for (const prompt of ["two foxes", "one owl", "three foxes", "a broken bridge"])
      expect(visible).not.toContain(prompt);
    // The error was logged (its param included), with the key replaced.
    const everything = logLines.join("\n");
    expect(everything).toContain('"param":"[redacted]"');
    for (const secret of [SEEDREAM_KEY, SIGNING_SECRET, slackApi.botToken, discord.token]) {
      expect(everything).not.toContain(secret);
    }
  });
});
