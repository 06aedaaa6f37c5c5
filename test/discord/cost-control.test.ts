import { describe, expect, it } from "vitest";
import { type DiscordHarness, useDiscordHarness } from "./harness.js";

/**
 * Cost control through the real discord.js adapter: `/imagine` refused by a quota, `/usage` for
 * a member and for one with Manage Server (alice owns the fake server), `/settings` with
 * options, and the channel and word policy. alice and bob are the fake server's members.
 */

let h: DiscordHarness;
useDiscordHarness(
  (started) => {
    h = started;
  },
  {
    env: {
      QUOTA_USER_DAILY_IMAGES: "2",
      QUOTA_TEAM_DAILY_IMAGES: "100",
      BLOCKED_TERMS: "gore,血腥",
      SEEDREAM_PRICE_PER_IMAGE: "0.04 USD",
    },
  },
);

const answerOf = (interactionId: string) => h.fake.edits.waitFor((e) => e.interactionId === interactionId);
const summaryOf = (interactionId: string) =>
  h.fake.edits.waitFor((e) => e.interactionId === interactionId && /\n(Done|Failed)/.test(e.content));

describe("cost control on Discord", () => {
  it("registers /usage and /settings beside /imagine", async () => {
    const registration = await h.fake.commands.registrations.waitFor();
    expect(registration.commands.map((c) => c.name)).toEqual([
      "imagine",
      "usage",
      "settings",
      "Edit with Seedream",
    ]);
    const settings = registration.commands.find((c) => c.name === "settings");
    expect(settings?.options?.map((o) => o.name)).toEqual(["model", "size", "ar", "n", "watermark", "reset"]);
  });

  it("refuses /imagine past the quota privately, before any Seedream call", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const first = await h.fake.sendInteractionCreate({
      name: "imagine",
      user: "bob",
      options: { prompt: "two moons", n: 2 },
    });
    await summaryOf(first.id);
    const second = await h.fake.sendInteractionCreate({
      name: "imagine",
      user: "bob",
      options: { prompt: "a moon" },
    });
    const answer = await answerOf(second.id);
    expect(answer.content).toBe("You have no images left today (limit 2); it resets at 00:00 UTC.");
    expect(answer.flags & 64).toBe(64);
    await h.discord.idle();
    expect(h.seedream.requests).toHaveLength(1);
  });

  it("shows /usage to a member, and the server's totals to a member with Manage Server", async () => {
    const mine = await h.fake.sendInteractionCreate({ name: "usage", user: "bob" });
    const own = await answerOf(mine.id);
    expect(own.flags & 64).toBe(64);
    expect(own.content).toContain("Today: 2 of 2 images (resets at 00:00 UTC), about 0.08 USD.");
    expect(own.content).not.toContain("Team");

    const admin = await h.fake.sendInteractionCreate({ name: "usage", user: "alice" });
    const team = await answerOf(admin.id);
    expect(team.content).toContain("Team today: 2 of 100 images, about 0.08 USD");
    expect(team.content).toContain(`Top today: 1. <@${h.fake.user("bob").id}> 2.`);
  });

  it("saves /settings options, applies them to a mention, and resets them", async () => {
    const saved = await h.fake.sendInteractionCreate({
      name: "settings",
      user: "alice",
      options: { model: "4.0", size: "1K", watermark: false },
    });
    expect((await answerOf(saved.id)).content).toMatch(
      /^Saved\. Your requests now use --model 4\.0 --size 1K --no-watermark/,
    );

    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await h.fake.sendMessageCreate({ author: "alice", content: h.mentionBot("a paper boat") });
    expect((await h.seedream.request(0)).body).toMatchObject({
      model: "doubao-seedream-4-0-250828",
      size: "1K",
      watermark: false,
    });
    await h.discord.idle();

    const reset = await h.fake.sendInteractionCreate({
      name: "settings",
      user: "alice",
      options: { reset: true },
    });
    expect((await answerOf(reset.id)).content).toMatch(/cleared/);
    const shown = await h.fake.sendInteractionCreate({ name: "settings", user: "alice" });
    expect((await answerOf(shown.id)).content).toMatch(/^You have no saved settings/);
  });

  it("takes settings and usage through a mention too", async () => {
    await h.fake.sendMessageCreate({ author: "bob", content: h.mentionBot("settings --n 2 --ar 16:9") });
    expect((await h.fake.nextMessage()).content).toMatch(/^Saved\. Your requests now use --ar 16:9 --n 2/);
    await h.fake.sendMessageCreate({ author: "bob", content: h.mentionBot("usage") });
    expect((await h.fake.nextMessage()).content).toMatch(/^Today: 2 of 2 images/);
    await h.fake.sendMessageCreate({ author: "bob", content: h.mentionBot("settings reset") });
    expect((await h.fake.nextMessage()).content).toMatch(/cleared/);
    await h.discord.idle();
    expect(h.seedream.requests).toEqual([]);
  });

  it("refuses a blocked term in Chinese and in English, naming it, without generating", async () => {
    await h.fake.sendMessageCreate({ author: "alice", content: h.mentionBot("一张血腥的电影海报") });
    const chinese = await h.fake.nextMessage();
    expect(chinese.content).toMatch(/^Your prompt contains "血腥"/);
    const english = await h.fake.sendInteractionCreate({
      name: "imagine",
      user: "alice",
      options: { prompt: "GORE and glitter" },
    });
    const answer = await answerOf(english.id);
    expect(answer.content).toMatch(/^Your prompt contains "gore"/);
    expect(answer.flags & 64).toBe(64);
    await h.discord.idle();
    expect(h.seedream.requests).toEqual([]);
  });
});

describe("ALLOWED_CHANNELS on Discord", () => {
  let d: DiscordHarness;
  useDiscordHarness(
    (started) => {
      d = started;
    },
    { env: { ALLOWED_CHANNELS: "placeholder" } },
  );

  it("answers privately, naming where the bot may be used, outside the allowed channels", async () => {
    // The fake's channel ids exist only once it runs, so every channel here is outside the list
    // (the Slack tests show requests in listed channels going through).
    expect(d.config.policy.allowedChannels).toEqual(["placeholder"]);
    const state = await d.fake.sendInteractionCreate({
      name: "imagine",
      channelId: d.fake.channel("art").id,
      options: { prompt: "a quiet harbour" },
    });
    const answer = await d.fake.edits.waitFor((e) => e.interactionId === state.id);
    expect(answer.content).toBe("Images can't be generated here. Use the bot in <#placeholder>.");
    expect(answer.flags & 64).toBe(64);
    await d.discord.idle();
    expect(d.seedream.requests).toEqual([]);
  });
});
