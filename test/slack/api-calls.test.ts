import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_DEFAULTS } from "../../adapters/slack/slack-app.js";
import type { StatusTimers } from "../../src/core/status-throttle.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

/**
 * Slack's Web API calls per run, counted at the fake: the status message, each image's three
 * upload steps (files.getUploadURLExternal, the POST of its bytes, files.completeUploadExternal)
 * and its follow-up buttons message (chat.postMessage), and the summary: images × 4 + 2 for a
 * mention, + 3 for a slash command (its parent message is
 * posted before the run and shows the status under the command). The status throttle runs on frozen timers at Slack's own
 * interval, so "within one interval" holds however loaded the machine is.
 */

const frozen: StatusTimers = { now: () => 0, schedule: () => () => {} };

let h: SlackHarness;
beforeAll(async () => {
  h = await startSlackHarness(
    {},
    { statusIntervalMs: SLACK_DEFAULTS.statusIntervalMs },
    { statusTimers: frozen },
  );
});
afterAll(async () => {
  await h?.close();
});

/** Web API methods and byte uploads after `seq`, in order. */
const callsSince = (seq: number) =>
  [
    ...h.api.recorder.calls.map((c) => ({ seq: c.seq, name: c.method })),
    ...h.api.byteUploads.map((u) => ({ seq: u.seq, name: "POST upload URL" })),
  ]
    .filter((c) => c.seq > seq)
    .sort((a, b) => a.seq - b.seq)
    .map((c) => c.name);
const lastSeq = () =>
  Math.max(0, ...h.api.recorder.calls.map((c) => c.seq), ...h.api.byteUploads.map((u) => u.seq));

/** Each image: its three upload steps, then its "N/2" message with the follow-up buttons. */
const TWO_UPLOADS = [
  "files.getUploadURLExternal",
  "POST upload URL",
  "files.completeUploadExternal",
  "chat.postMessage",
  "files.getUploadURLExternal",
  "POST upload URL",
  "files.completeUploadExternal",
  "chat.postMessage",
];

describe("Slack Web API calls per run", () => {
  it("a 2-image mention run makes images × 4 + 2 calls", async () => {
    const channel = "C0CALLS01";
    const before = lastSeq();
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const message = h.sender.userMessage({ text: h.mentionBot("two otters --n 2"), channel });
    await h.sender.deliver(message, "app_mention");
    await h.api.recorder.waitFor(
      "update",
      1,
      (u) => u.channel === channel && /^Done: 2 of 2/.test(u.text ?? ""),
    );
    await h.runtime.handler.idle("slack");
    expect(callsSince(before)).toEqual(["chat.postMessage", ...TWO_UPLOADS, "chat.update"]);
  });

  it("a 2-image slash command run makes images × 4 + 3 calls: the parent, its status edit, the summary", async () => {
    const channel = "C0CALLS02";
    const before = lastSeq();
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await h.sender.slashCommand({ text: "two otters --n 2", channelId: channel });
    await h.api.recorder.waitFor(
      "update",
      1,
      (u) => u.channel === channel && /Done: 2 of 2/.test(u.text ?? ""),
    );
    await h.runtime.handler.idle("slack");
    expect(callsSince(before)).toEqual(["chat.postMessage", "chat.update", ...TWO_UPLOADS, "chat.update"]);
  });
});
