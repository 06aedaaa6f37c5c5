import { describe, expect, it } from "vitest";
import type { StatusTimers } from "../../src/core/status-throttle.js";
import { type DiscordHarness, useDiscordHarness } from "./harness.js";

/**
 * Discord's global limit is 50 requests/s per bot: every call a run spends beyond its images
 * delays someone's image. Counted at the fake's REST front door, for a 2-image run: the status
 * reply, one typing indicator, the two images and the summary edit (images + 3). The status
 * throttle runs on frozen timers, so "within one 1.5 s interval" holds however loaded the
 * machine is; the summary is sent when the run ends, not by a timer.
 */

const frozen: StatusTimers = { now: () => 0, schedule: () => () => {} };

let h: DiscordHarness;
useDiscordHarness(
  (started) => {
    h = started;
  },
  { runtime: { statusTimers: frozen } },
);

const routesSince = (seq: number) => h.fake.requests.all.filter((r) => r.seq > seq).map((r) => r.route);

describe("Discord REST calls per run", () => {
  it("a 2-image mention run makes images + 3 calls: status, one typing, 2 images, the summary", async () => {
    const before = h.fake.requests.all.at(-1)?.seq ?? 0;
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await h.fake.sendMessageCreate({ content: h.mentionBot("two otters --n 2") });
    const summary = await h.fake.edits.waitFor((e) => /^Done: 2 of 2/.test(e.content));
    await h.discord.idle();
    expect(routesSince(before)).toEqual([
      "POST /channels/:channelId/messages", // the status reply
      "POST /channels/:channelId/typing",
      "POST /channels/:channelId/messages",
      "POST /channels/:channelId/messages",
      "PATCH /channels/:channelId/messages/:messageId", // the summary
    ]);
    expect(summary.content).toMatch(/^Done: 2 of 2 images delivered/);
  });

  it("a 2-image /imagine run makes images + 3 calls besides its acknowledgement", async () => {
    const before = h.fake.requests.all.at(-1)?.seq ?? 0;
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const state = await h.fake.sendInteractionCreate({
      name: "imagine",
      options: { prompt: "two otters", n: 2 },
    });
    await h.fake.edits.waitFor(
      (e) => e.messageId === state.originalMessageId && /Done: 2 of 2/.test(e.content),
    );
    await h.discord.idle();
    // The acknowledgement is the answer Discord demands within 3 s (and, like every
    // interaction endpoint, outside the bot's global rate limit).
    expect(routesSince(before)).toEqual([
      "POST /interactions/:interactionId/:token/callback",
      "PATCH /webhooks/:appId/:token/messages/:messageId", // the status
      "POST /channels/:channelId/typing",
      "POST /webhooks/:appId/:token",
      "POST /webhooks/:appId/:token",
      "PATCH /webhooks/:appId/:token/messages/:messageId", // the summary
    ]);
  });
});
