import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordedUpload } from "../fakes/slack-recorder.js";
import { type SlackFleet, startSlackFleet } from "./harness.js";

/**
 * Crashes on Slack, end to end: real bot processes (HTTP mode, Bolt) on one sqlite store, the
 * fake Slack and the fake Seedream in this process, kill -9 mid-run, restarts.
 */

let fleet: SlackFleet;
beforeAll(async () => {
  fleet = await startSlackFleet();
});
afterAll(async () => {
  await fleet?.close();
});

const WAIT = { timeoutMs: 20_000 };
const uploads = (channel: string): RecordedUpload[] =>
  fleet.api.recorder.of("upload").filter((upload) => upload.channel === channel);
const titles = (channel: string) => uploads(channel).map((upload) => upload.title);
const botMessages = (channel: string) =>
  fleet.api.recorder.of("message").filter((message) => message.channel === channel);
const updates = (channel: string, ts: string) =>
  fleet.api.recorder.of("update").filter((update) => update.channel === channel && update.ts === ts);
/**
 * Image `n` is delivered and recorded: the status says so only after the store has it (an
 * image posted in the instant between the upload and that write would be posted again).
 */
const delivered = (channel: string, n: number, total: number) =>
  fleet.api.recorder.waitFor("update", 1, { channel, text: new RegExp(`${n}/${total} done`) }, WAIT);
const maxImages = (request: number) =>
  (fleet.seedream.requests[request]?.body?.sequential_image_generation_options as { max_images?: number })
    ?.max_images;

describe("a crash (kill -9)", () => {
  it("after image 1: the restart tells the thread once, edits the same status and delivers the rest", async () => {
    fleet.freshStore();
    const channel = "C0KILL0001";
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const first = await fleet.start();
    const sender = fleet.sender(first);
    const message = sender.userMessage({ channel, text: `<@${fleet.api.botUserId}> three cats --n 3` });
    await sender.deliver(message, "app_mention");
    await delivered(channel, 1, 3);
    await first.bot.kill();
    const [status] = botMessages(channel);
    expect(status?.text).toMatch(/Generating 3 images/);

    fleet.seedream.setScenario({});
    await fleet.start();
    await fleet.api.recorder.waitFor("upload", 3, { channel }, WAIT);
    await fleet.api.recorder.waitFor("update", 1, { channel, ts: status?.ts, text: /Done: 3 of 3/ }, WAIT);
    expect(titles(channel)).toEqual(["1/3", "2/3", "3/3"]);
    const told = botMessages(channel).filter((posted) => /The bot restarted/.test(posted.text ?? ""));
    expect(told.map((posted) => posted.text)).toEqual([
      "The bot restarted while making your images: 1 of 3 were delivered. Making the other 2 now.",
    ]);
    // The status message is edited, not posted again.
    expect(botMessages(channel).map((posted) => posted.ts)).toEqual([status?.ts, told[0]?.ts]);
    expect(maxImages(1)).toBe(2);
  });

  it("MAX_CONCURRENT_RUNS=1, A running and B waiting: after the restart A starts again and B runs and delivers", async () => {
    fleet.freshStore();
    const [channelA, channelB] = ["C0QUEUE0A1", "C0QUEUE0B1"];
    fleet.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });
    const first = await fleet.start({ MAX_CONCURRENT_RUNS: "1" });
    const sender = fleet.sender(first);
    await sender.slashCommand({ text: "a red door", channelId: channelA, userId: "U0USERAAA1" });
    await fleet.seedream.reached(0);
    await sender.slashCommand({ text: "a blue door", channelId: channelB, userId: "U0USERBBB1" });
    await fleet.api.recorder.waitFor("update", 1, { channel: channelB, text: /next in line/ }, WAIT);
    await first.bot.kill();

    fleet.seedream.setScenario({});
    await fleet.start({ MAX_CONCURRENT_RUNS: "1" });
    await fleet.api.recorder.waitFor("upload", 1, { channel: channelB }, WAIT);
    await fleet.api.recorder.waitFor("upload", 1, { channel: channelA }, WAIT);
    // Old order: A (started again, nothing had been delivered) before B.
    expect(fleet.seedream.requests.map((request) => request.body?.prompt)).toEqual([
      "a red door",
      "a red door",
      "a blue door",
    ]);
    await fleet.api.recorder.waitFor(
      "message",
      1,
      {
        channel: channelA,
        text: /The bot restarted while making your image: 0 of 1 were delivered\. Starting again\./,
      },
      WAIT,
    );
    const [parentB] = botMessages(channelB);
    const statusB = updates(channelB, parentB?.ts ?? "").map((update) => update.text ?? "");
    expect(statusB.some((text) => /resumed after a restart/.test(text))).toBe(true);
    await fleet.api.recorder.waitFor("update", 1, { channel: channelB, text: /Done: image delivered/ }, WAIT);
  });

  it("a run whose continuation also dies is not continued a third time, and its thread is told", async () => {
    fleet.freshStore();
    const channel = "C0TWICE001";
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const first = await fleet.start();
    await fleet.sender(first).slashCommand({ text: "three boats --n 3", channelId: channel });
    await delivered(channel, 1, 3);
    await first.bot.kill();

    // The continuation delivers image 2/3, then its process dies too.
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const second = await fleet.start();
    await delivered(channel, 2, 3);
    await second.bot.kill();

    const third = await fleet.start();
    await fleet.api.recorder.waitFor(
      "message",
      1,
      { channel, text: /restarted while making your images again: 2 of 3 were delivered.*won't try again/ },
      WAIT,
    );
    await third.bot.waitForLog(/recovery finished/);
    expect(fleet.seedream.requests).toHaveLength(2);
    expect(titles(channel)).toEqual(["1/3", "2/3"]);
    const [parent] = botMessages(channel);
    expect(updates(channel, parent?.ts ?? "").at(-1)?.text).toMatch(/Stopped: 2 of 3 images delivered/);
  });
});
