import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DURABLE_TIMEOUTS, type SlackFleet, startSlackFleet, WAIT } from "./harness.js";

/**
 * Crashes on Slack, end to end: real bot processes (HTTP mode, Bolt) on one sqlite store, the
 * fake Slack and the fake Seedream in this process, kill -9 mid-run, restarts.
 */

vi.setConfig(DURABLE_TIMEOUTS);

let fleet: SlackFleet;
beforeAll(async () => {
  fleet = await startSlackFleet();
});
afterAll(async () => {
  await fleet?.close();
});

describe("a crash (kill -9)", () => {
  it("after image 1: the restart tells the thread once, edits the same status and delivers the rest", async () => {
    fleet.freshStore();
    const channel = "C0KILL0001";
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const first = await fleet.start();
    const sender = fleet.sender(first);
    const message = sender.userMessage({ channel, text: `<@${fleet.api.botUserId}> three cats --n 3` });
    await sender.deliver(message, "app_mention");
    await fleet.delivered(channel, 1, 3);
    await first.bot.kill();
    const [status] = fleet.botMessages(channel);
    expect(status?.text).toMatch(/Generating 3 images/);

    fleet.seedream.setScenario({});
    await fleet.start();
    await fleet.api.recorder.waitFor("upload", 3, { channel }, WAIT);
    await fleet.api.recorder.waitFor("update", 1, { channel, ts: status?.ts, text: /Done: 3 of 3/ }, WAIT);
    expect(fleet.titles(channel)).toEqual(["1/3", "2/3", "3/3"]);
    const told = fleet.botMessages(channel).filter((posted) => /The bot restarted/.test(posted.text ?? ""));
    expect(told.map((posted) => posted.text)).toEqual([
      "The bot restarted while making your images: 1 of 3 were delivered. Making the other 2 now.",
    ]);
    // The status message is edited, not posted again.
    expect(fleet.botMessages(channel).map((posted) => posted.ts)).toEqual([status?.ts, told[0]?.ts]);
    expect(fleet.maxImages(1)).toBe(2);
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
    const [parentB] = fleet.botMessages(channelB);
    const statusB = fleet.updates(channelB, parentB?.ts ?? "").map((update) => update.text ?? "");
    expect(statusB.some((text) => /resumed after a restart/.test(text))).toBe(true);
    await fleet.api.recorder.waitFor("update", 1, { channel: channelB, text: /Done: image delivered/ }, WAIT);
  });

  it("a run whose continuation also dies is not continued a third time, and its thread is told", async () => {
    fleet.freshStore();
    const channel = "C0TWICE001";
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const first = await fleet.start();
    await fleet.sender(first).slashCommand({ text: "three boats --n 3", channelId: channel });
    await fleet.delivered(channel, 1, 3);
    await first.bot.kill();

    // The continuation delivers image 2/3, then its process dies too.
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const second = await fleet.start();
    await fleet.delivered(channel, 2, 3);
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
    expect(fleet.titles(channel)).toEqual(["1/3", "2/3"]);
    const [parent] = fleet.botMessages(channel);
    expect(fleet.updates(channel, parent?.ts ?? "").at(-1)?.text).toMatch(/Stopped: 2 of 3 images delivered/);
  });
});
