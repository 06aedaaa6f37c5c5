import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DURABLE_TIMEOUTS, type SlackFleet, startSlackFleet, WAIT } from "./harness.js";

/**
 * Deploys on Slack, end to end: real bot processes (HTTP mode, Bolt) on one sqlite store, the
 * fake Slack and the fake Seedream in this process, SIGTERM mid-run, restarts.
 */

vi.setConfig(DURABLE_TIMEOUTS);

let fleet: SlackFleet;
beforeAll(async () => {
  fleet = await startSlackFleet();
});
afterAll(async () => {
  await fleet?.close();
});

describe("a deploy (SIGTERM)", () => {
  it("lets a run finish within the grace: all 3 images delivered 1.5 s apart, then exit 0", async () => {
    fleet.freshStore();
    const channel = "C0TERM0001";
    fleet.seedream.setScenario({
      images: [{ kind: "ok" }, { kind: "ok", delayMs: 1500 }, { kind: "ok", delayMs: 1500 }],
    });
    const first = await fleet.start({ SHUTDOWN_GRACE_MS: "15000" });
    await fleet.sender(first).slashCommand({ text: "three foxes --n 3", channelId: channel });
    await fleet.api.recorder.waitFor("upload", 1, { channel }, WAIT);
    first.bot.signal("SIGTERM");

    // Arriving during the drain: recorded as waiting and told so, not started here.
    const late = "C0TERM0002";
    await fleet.sender(first).slashCommand({ text: "a late owl", channelId: late });
    const [queued] = await fleet.api.recorder.waitFor(
      "update",
      1,
      { channel: late, text: /queued: the bot is restarting, your request will start in a moment/i },
      WAIT,
    );

    const exit = await first.bot.exited;
    expect(exit.code).toBe(0);
    expect(fleet.titles(channel)).toEqual(["1/3", "2/3", "3/3"]);
    expect(exit.afterSignalMs).toBeLessThan(15_000);
    const [parent] = fleet.botMessages(channel);
    expect(fleet.updates(channel, parent?.ts ?? "").at(-1)?.text).toMatch(/Done: 3 of 3 images delivered/);
    expect(fleet.uploads(late)).toEqual([]);
    console.warn(`durable: exit ${exit.afterSignalMs} ms after SIGTERM with a run finishing (grace 15 s)`);

    // The next process starts it, in the same status message.
    fleet.seedream.setScenario({});
    await fleet.start();
    await fleet.api.recorder.waitFor("upload", 1, { channel: late }, WAIT);
    expect(fleet.seedream.requests.map((request) => request.body?.prompt)).toEqual([
      "three foxes",
      "a late owl",
    ]);
    await fleet.api.recorder.waitFor("update", 1, { channel: late, text: /Done: image delivered/ }, WAIT);
    const lateUpdates = fleet.updates(late, queued?.ts ?? "");
    expect(lateUpdates.some((update) => /resumed after a restart/.test(update.text ?? ""))).toBe(true);
  });

  it("past the grace (2 s, images 3 s apart): exits within 7 s; after the restart the thread is told and the rest arrive", async () => {
    fleet.freshStore();
    const channel = "C0GRACE001";
    fleet.seedream.setScenario({
      images: [{ kind: "ok" }, { kind: "ok", delayMs: 3000 }, { kind: "ok", delayMs: 3000 }],
    });
    const first = await fleet.start({ SHUTDOWN_GRACE_MS: "2000" });
    await fleet.sender(first).slashCommand({ text: "three owls --n 3", channelId: channel });
    await fleet.api.recorder.waitFor("upload", 1, { channel }, WAIT);
    first.bot.signal("SIGTERM");
    const exit = await first.bot.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterSignalMs).toBeLessThan(7000);
    expect(exit.afterSignalMs).toBeGreaterThanOrEqual(2000);
    expect(fleet.titles(channel)).toEqual(["1/3"]);
    console.warn(`durable: exit ${exit.afterSignalMs} ms after SIGTERM past the grace (2 s)`);

    fleet.seedream.setScenario({});
    await fleet.start();
    const [parent] = fleet.botMessages(channel);
    const [told] = await fleet.api.recorder.waitFor(
      "message",
      1,
      { channel, text: /The bot restarted while making your images: 1 of 3 were delivered/ },
      WAIT,
    );
    expect(told?.threadTs).toBe(parent?.ts);
    await fleet.api.recorder.waitFor("upload", 3, { channel }, WAIT);
    await fleet.api.recorder.waitFor("update", 1, { channel, ts: parent?.ts, text: /Done: 3 of 3/ }, WAIT);
    expect(fleet.titles(channel)).toEqual(["1/3", "2/3", "3/3"]);
    // The continuation asked for the 2 missing images only, with the same prompt.
    expect(fleet.seedream.requests.map((request) => request.body?.prompt)).toEqual([
      "three owls",
      "three owls",
    ]);
    expect(fleet.maxImages(1)).toBe(2);
    // One thread: the parent (the status), the one message telling what happened; nothing re-posted.
    expect(fleet.botMessages(channel).map((message) => message.ts)).toEqual([parent?.ts, told?.ts]);
  });

  it("a second signal exits at once, without waiting for the grace", async () => {
    fleet.freshStore();
    const channel = "C0TWOSIG01";
    fleet.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });
    const bot = await fleet.start({ SHUTDOWN_GRACE_MS: "15000" });
    await fleet.sender(bot).slashCommand({ text: "a slow moon", channelId: channel });
    await fleet.seedream.reached(0);
    bot.bot.signal("SIGTERM");
    await bot.bot.waitForLog(/shutting down/);
    bot.bot.signal("SIGTERM");
    const exit = await bot.bot.exited;
    expect(exit.code).toBe(143);
    expect(exit.afterSignalMs).toBeLessThan(1500);
    console.warn(`durable: exit ${exit.afterSignalMs} ms after a second SIGTERM`);
  });
});
