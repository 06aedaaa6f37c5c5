import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type SlackHarness, startSlackHarness } from "./harness.js";

/**
 * Cost control through the real Slack adapter: quotas, usage, settings and the channel and
 * word policy, on the fake Slack Web API and the fake Seedream server. Each test uses its own
 * user (quotas are per user) and channel.
 */

const ALLOWED = [
  "C0QUOTA001",
  "C0QUOTA002",
  "C0QUOTA003",
  "C0QUOTA004",
  "C0USAGE001",
  "C0SETTING1",
  "C0WORDS001",
];
const clock = { t: Date.parse("2027-01-15T12:00:00Z"), now: () => clock.t };

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness(
    {
      QUOTA_USER_DAILY_IMAGES: "3",
      ADMIN_USER_IDS: "slack:U0ADMIN001",
      ALLOWED_CHANNELS: ALLOWED.join(","),
      BLOCKED_TERMS: "gore, blood bath, 血腥",
    },
    {},
    { clock },
  );
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.seedream.reset());

/** The private answer to a slash command (through its response_url). */
async function privateAnswer(ack: { responseUrl: string }): Promise<string> {
  const [reply] = await h.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
  expect(reply?.responseType).toBe("ephemeral");
  return reply?.text ?? "";
}

/** Runs `/seedream text` for `userId` in `channel` and waits for its summary. */
async function generate(text: string, userId: string, channel: string): Promise<void> {
  const before = h.api.recorder.of("update").filter((u) => /Done|Failed/.test(u.text ?? "")).length;
  await h.sender.slashCommand({ text, channelId: channel, userId });
  await h.api.recorder.waitFor("update", before + 1, (u) => /\n(Done|Failed)/.test(u.text ?? ""));
}

const parentsIn = (channel: string) =>
  h.api.recorder.of("message").filter((m) => m.channel === channel && !m.threadTs);

describe("quotas on Slack", () => {
  it("refuses past the daily quota privately, naming the limit, what is left and the reset, without calling Seedream", async () => {
    const channel = "C0QUOTA001";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await generate("two foxes --n 2", "U0QUOTA001", channel);
    expect(h.seedream.requests).toHaveLength(1);

    const ack = await h.sender.slashCommand({
      text: "two more foxes --n 2",
      channelId: channel,
      userId: "U0QUOTA001",
    });
    expect(await privateAnswer(ack)).toBe(
      "You have 1 image left today (limit 3); it resets at 00:00 UTC. Try --n 1.",
    );
    await h.runtime.handler.idle("slack");
    expect(h.seedream.requests).toHaveLength(1);
    // No public "asked:" message for the refused request.
    expect(parentsIn(channel)).toHaveLength(1);
  });

  it("does not count blocked images", async () => {
    const channel = "C0QUOTA002";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }] });
    await generate("three owls --n 3", "U0QUOTA002", channel);
    // 2 of 3 delivered: one image is still left today.
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await generate("one more owl", "U0QUOTA002", channel);
    expect(h.seedream.requests).toHaveLength(2);
    const ack = await h.sender.slashCommand({
      text: "an owl again",
      channelId: channel,
      userId: "U0QUOTA002",
    });
    expect(await privateAnswer(ack)).toBe("You have no images left today (limit 3); it resets at 00:00 UTC.");
    await h.runtime.handler.idle("slack");
    expect(h.seedream.requests).toHaveLength(2);
  });

  it("lets only one of two concurrent requests at the edge of the quota through", async () => {
    const channel = "C0QUOTA003";
    h.seedream.setScenario({ images: [{ kind: "ok", gate: true }, { kind: "ok" }] });
    const [a, b] = await Promise.all([
      h.sender.slashCommand({ text: "a castle --n 2", channelId: channel, userId: "U0QUOTA003" }),
      h.sender.slashCommand({ text: "a tower --n 2", channelId: channel, userId: "U0QUOTA003" }),
    ]);
    const refusals = await h.api.recorder.waitFor(
      "response_url",
      1,
      (r) => r.url === a.responseUrl || r.url === b.responseUrl,
    );
    expect(refusals.map((r) => r.text)).toEqual([
      "You have 1 image left today (limit 3); it resets at 00:00 UTC. Try --n 1.",
    ]);
    await h.seedream.reached(0);
    h.seedream.release(0);
    await h.runtime.handler.idle("slack");
    expect(h.seedream.requests).toHaveLength(1);
  });

  it("starts a new day at the configured midnight", async () => {
    const channel = "C0QUOTA004";
    clock.t = Date.parse("2027-01-15T23:59:30Z");
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }] });
    await generate("three bells --n 3", "U0QUOTA004", channel);
    const late = await h.sender.slashCommand({ text: "a bell", channelId: channel, userId: "U0QUOTA004" });
    expect(await privateAnswer(late)).toMatch(/^You have no images left today \(limit 3\)/);

    clock.t = Date.parse("2027-01-16T00:00:01Z");
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await generate("a morning bell", "U0QUOTA004", channel);
    expect(h.seedream.requests).toHaveLength(2);
    clock.t = Date.parse("2027-01-15T12:00:00Z");
  });
});

describe("usage on Slack", () => {
  it("shows a user their images today and this month with the estimated cost", async () => {
    const channel = "C0USAGE001";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await generate("two lamps --n 2", "U0USAGE001", channel);
    const ack = await h.sender.slashCommand({ text: "usage", channelId: channel, userId: "U0USAGE001" });
    const answer = await privateAnswer(ack);
    // Ark bills Seedream 4.5 at 0.25 CNY per image.
    expect(answer).toContain("Today: 2 of 3 images (resets at 00:00 UTC), about 0.50 CNY.");
    expect(answer).toContain("January 2027: 2 images, about 0.50 CNY.");
    expect(answer).not.toContain("Team");
  });

  it("shows an admin of ADMIN_USER_IDS the team's totals and top users", async () => {
    const ack = await h.sender.slashCommand({ text: "usage", channelId: "C0USAGE001", userId: "U0ADMIN001" });
    const answer = await privateAnswer(ack);
    expect(answer).toMatch(/^Team today: \d+ images, about [\d.]+ CNY; this month: \d+ images/m);
    // Mentions stay Slack markup in a private answer, so they show as names.
    expect(answer).toMatch(/^Top today: 1\. <@U0\w+> \d+, 2\. <@U0\w+> \d+/m);
    expect(answer).toContain("<@U0USAGE001> 2");
    expect(answer.match(/<@/g)?.length).toBeLessThanOrEqual(10);
  });
});

describe("settings on Slack", () => {
  it("applies saved settings, lets typed flags win, and forgets them on reset", async () => {
    const channel = "C0SETTING1";
    const userId = "U0SETTING1";
    const saved = await h.sender.slashCommand({
      text: "settings --model 4.0 --size 1K --n 2 --watermark",
      channelId: channel,
      userId,
    });
    expect(await privateAnswer(saved)).toMatch(
      /^Saved\. Your requests now use --model 4\.0 --size 1K --n 2 --watermark/,
    );
    const shown = await h.sender.slashCommand({ text: "settings", channelId: channel, userId });
    expect(await privateAnswer(shown)).toMatch(/^Your settings: --model 4\.0 --size 1K --n 2 --watermark\./);

    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await generate("a kite", userId, channel);
    expect((await h.seedream.request(0)).body).toMatchObject({
      model: "doubao-seedream-4-0-250828",
      size: "1K",
      watermark: true,
      sequential_image_generation_options: { max_images: 2 },
    });

    h.seedream.reset();
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await generate("a kite --model 4.5 --size 2K --n 1 --no-watermark", userId, channel);
    const overridden = (await h.seedream.request(0)).body;
    expect(overridden).toMatchObject({ model: "doubao-seedream-4-5-251128", size: "2K", watermark: false });
    expect(overridden?.sequential_image_generation).not.toBe("auto");

    const reset = await h.sender.slashCommand({ text: "settings reset", channelId: channel, userId });
    expect(await privateAnswer(reset)).toMatch(/cleared/);
    clock.t += 24 * 60 * 60 * 1000; // a new day: the quota is not what this test is about
    h.seedream.reset();
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await generate("a kite", userId, channel);
    clock.t -= 24 * 60 * 60 * 1000;
    const plain = (await h.seedream.request(0)).body;
    expect(plain).toMatchObject({ model: "doubao-seedream-4-5-251128", watermark: false });
    expect(plain?.size).not.toBe("1K");
  });

  it("refuses settings the model can't use, saving nothing", async () => {
    const ack = await h.sender.slashCommand({
      text: "settings --model 4.5 --size 1K",
      channelId: "C0SETTING1",
      userId: "U0SETTING2",
    });
    expect(await privateAnswer(ack)).toMatch(/1K/);
    expect(await h.runtime.store.userSettings("slack", "U0SETTING2")).toBeUndefined();
  });
});

describe("channel and word policy on Slack", () => {
  it("answers privately where the bot may be used outside ALLOWED_CHANNELS, without calling Seedream", async () => {
    const ack = await h.sender.slashCommand({
      text: "a cat",
      channelId: "C0ELSEWHERE",
      userId: "U0POLICY01",
    });
    const answer = await privateAnswer(ack);
    expect(answer).toMatch(/^Images can't be generated here\. Use the bot in <#C0QUOTA001>, <#C0QUOTA002>/);
    await h.runtime.handler.idle("slack");
    expect(h.seedream.requests).toEqual([]);
    expect(parentsIn("C0ELSEWHERE")).toEqual([]);
  });

  it("refuses an English blocked term privately, naming it, and logs the term without the prompt", async () => {
    const ack = await h.sender.slashCommand({
      text: "a secret garden after the Blood  Bath",
      channelId: "C0WORDS001",
      userId: "U0POLICY02",
    });
    expect(await privateAnswer(ack)).toMatch(/^Your prompt contains "blood bath"/);
    await h.runtime.handler.idle("slack");
    expect(h.seedream.requests).toEqual([]);
    const line = h.log.lines.find((l) => l.includes("blocked_term"));
    expect(line).toContain("blood bath");
    expect(h.log.lines.filter((l) => l.includes("secret garden"))).toEqual([]);
  });

  it("refuses a Chinese blocked term inside a mention, privately", async () => {
    const channel = "C0WORDS001";
    const message = h.sender.userMessage({
      text: h.mentionBot("一张很血腥的海报"),
      channel,
      user: "U0POLICY03",
    });
    await h.sender.deliver(message, "app_mention");
    const [answer] = await h.api.recorder.waitFor("ephemeral", 1, (e) => e.user === "U0POLICY03");
    expect(answer?.text).toMatch(/^Your prompt contains "血腥"/);
    await h.runtime.handler.idle("slack");
    expect(h.seedream.requests).toEqual([]);
  });
});

describe("quota counters with the sqlite store", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "seedream-quota-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("survive a restart of the bot", async () => {
    const env = { QUOTA_USER_DAILY_IMAGES: "3", STORE_URL: `sqlite://${join(dir, "bot.sqlite")}` };
    const first = await startSlackHarness(env);
    try {
      first.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
      await first.sender.slashCommand({
        text: "two ships --n 2",
        channelId: "C0RESTART1",
        userId: "U0RESTART1",
      });
      await first.api.recorder.waitFor("update", 1, (u) => /\nDone: 2 of 2/.test(u.text ?? ""));
    } finally {
      await first.close();
    }
    const second = await startSlackHarness(env);
    try {
      const ack = await second.sender.slashCommand({
        text: "two more ships --n 2",
        channelId: "C0RESTART1",
        userId: "U0RESTART1",
      });
      const [reply] = await second.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
      expect(reply?.text).toBe("You have 1 image left today (limit 3); it resets at 00:00 UTC. Try --n 1.");
      await second.runtime.handler.idle("slack");
      expect(second.seedream.requests).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
