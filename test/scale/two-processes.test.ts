import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { waitingStatus } from "../../src/core/messages.js";
import {
  DURABLE_TIMEOUTS,
  type RunningBot,
  type SlackFleet,
  startSlackFleet,
  WAIT,
} from "../durable/harness.js";
import { mention } from "../fakes/slack-events.js";
import { describeRedis, useRedis } from "../helpers/redis-server.js";
import { runsStarted, settle, statusIn, textsOf, whichLogs } from "./harness.js";

/**
 * Two real all-role bot processes (BOT_ROLE unset: each a gateway and a worker) on one Redis
 * (STORE_URL=redis://), both behind "one Slack URL": the test delivers each request to one or
 * both of them, as a load balancer with Slack's retries would. The tests share the two processes
 * and run in order; the last one kills one of them.
 */

vi.setConfig(DURABLE_TIMEOUTS);

describeRedis("two all-role bot processes sharing one Redis", () => {
  const redis = useRedis();
  let fleet: SlackFleet;
  let a: RunningBot;
  let b: RunningBot;
  beforeAll(async () => {
    fleet = await startSlackFleet();
    const onRedis = { STORE_URL: redis.url(), MAX_CONCURRENT_RUNS: "10", MAX_CONCURRENT_RUNS_PER_USER: "1" };
    [a, b] = await Promise.all([fleet.start(onRedis), fleet.start(onRedis)]);
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("the same Slack events delivered to both make one run each", async () => {
    fleet.seedream.reset();
    fleet.seedream.setScenario({ images: [{ kind: "ok" }] });
    const [toA, toB] = [fleet.sender(a), fleet.sender(b)];
    const channel = "C0SCALE001";
    const count = 10;
    const started = Date.now();
    const deliveries = [];
    for (let i = 0; i < count; i++) {
      const user = `U0SCALE${String(i).padStart(3, "0")}`;
      const message = toA.userMessage({
        channel,
        user,
        text: `${mention(fleet.api.botUserId)} fox number ${i}`,
      });
      // Slack sends a mention as two events (app_mention and message); each goes to both processes.
      const mentionEvent = toA.envelope(message, "app_mention");
      const messageEvent = toA.envelope(message, "message");
      deliveries.push(
        toA.sendEnvelope(mentionEvent),
        toB.sendEnvelope(mentionEvent),
        toA.sendEnvelope(messageEvent),
        toB.sendEnvelope(messageEvent),
      );
    }
    const acks = await Promise.all(deliveries);
    expect(acks.map((ack) => ack.status)).toEqual(acks.map(() => 200));
    await fleet.api.recorder.waitFor("upload", count, { channel }, { timeoutMs: 45_000 });
    const elapsed = Date.now() - started;
    // Anything posted twice would have arrived by now: give it a moment, then count.
    await settle();
    const prompts = fleet.seedream.requests.map((request) => String(request.body?.prompt));
    expect(prompts.sort()).toEqual(Array.from({ length: count }, (_, i) => `fox number ${i}`).sort());
    expect(fleet.uploads(channel)).toHaveLength(count);
    // Each process got every delivery; between them they ran each message once.
    const [ranA = 0, ranB = 0] = runsStarted([a, b]);
    expect(ranA + ranB).toBe(count);
    process.stderr.write(
      `two processes: ${count} messages x 4 deliveries -> ${count} runs in ${elapsed} ms (runs per process ${ranA}/${ranB})\n`,
    );
  });

  it("MAX_CONCURRENT_RUNS_PER_USER=1 holds across them: a user's second request, sent to the other process, waits until the first ends", async () => {
    fleet.seedream.reset();
    fleet.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });
    const user = "U0ONEATIME";
    const [first, second] = ["C0PERUSER1", "C0PERUSER2"];
    await fleet.sender(a).slashCommand({ text: "a red kite", channelId: first, userId: user });
    await fleet.seedream.reached(0);
    // Another user's run is not held up by this user's limit (and proves the workers are free).
    await fleet
      .sender(b)
      .slashCommand({ text: "a green kite", channelId: "C0PERUSER3", userId: "U0SOMEONE1" });
    await fleet.seedream.request(1);

    await fleet.sender(b).slashCommand({ text: "a blue kite", channelId: second, userId: user });
    // Told it waits, with its place in line, on its own status message.
    await fleet.api.recorder.waitFor("message", 1, { channel: second }, WAIT);
    await vi.waitFor(
      () => expect(textsOf(fleet, second, statusIn(fleet, second)).join("\n")).toContain(waitingStatus(1)),
      { timeout: WAIT.timeoutMs, interval: 200 },
    );
    // While the first is held at Seedream, the second never reaches it (several retries' worth).
    await settle(3000);
    expect(fleet.seedream.requests.map((request) => request.body?.prompt)).toEqual([
      "a red kite",
      "a green kite",
    ]);

    const order: string[] = [];
    const firstEnded = fleet.api.recorder
      .waitFor("update", 1, { channel: first, text: /^Done/m }, WAIT)
      .then(() => order.push("first run ended"));
    const secondStarted = fleet.seedream.request(2).then((request) => {
      order.push(`Seedream asked for ${String(request.body?.prompt)}`);
    });
    fleet.seedream.release(0);
    await Promise.all([firstEnded, secondStarted]);
    expect(order).toEqual(["first run ended", "Seedream asked for a blue kite"]);
    await fleet.api.recorder.waitFor("upload", 1, { channel: second }, WAIT);
    await fleet.api.recorder.waitFor("update", 1, { channel: second, text: /^Done/m }, WAIT);
    expect(fleet.uploads(first)).toHaveLength(1);
    expect(fleet.uploads(second)).toHaveLength(1);
  });

  it("kill -9 of the process running a run: the other continues it within 60 s and posts nothing twice", async () => {
    fleet.seedream.reset();
    fleet.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const channel = "C0KILLONE1";
    const user = "U0KILLONE1";
    await fleet.sender(a).slashCommand({ text: "three owls --n 3", channelId: channel, userId: user });
    const runner = await whichLogs([a, b], "run started", { user });
    const survivor = runner === a ? b : a;
    await fleet.delivered(channel, 1, 3);
    const status = statusIn(fleet, channel);

    fleet.seedream.setScenario({});
    const killedAt = Date.now();
    await runner.bot.kill();
    const continuation = await fleet.seedream.request(1);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(60_000);
    // The continuation asks only for the missing images.
    expect(continuation.body?.prompt).toBe("three owls");
    expect(fleet.maxImages(1)).toBe(2);
    await fleet.api.recorder.waitFor("upload", 3, { channel }, { timeoutMs: 60_000 });
    await fleet.api.recorder.waitFor("update", 1, { channel, ts: status.ts, text: /^Done: 3 of 3/m }, WAIT);
    expect(runsStarted([survivor], { user })).toEqual([1]);
    await settle();
    expect(fleet.titles(channel)).toEqual(["1/3", "2/3", "3/3"]);
    // The thread is told once, and the same status message is edited (not posted again).
    const told = fleet
      .botMessages(channel)
      .filter((posted) => /1 of 3 were delivered/.test(posted.text ?? ""));
    expect(told).toHaveLength(1);
    expect(fleet.botMessages(channel).map((posted) => posted.ts)).toEqual([status.ts, told[0]?.ts]);
    process.stderr.write(
      `two processes: kill -9 of the runner -> continued by the other after ${takeoverMs} ms\n`,
    );
  });
});
