import { afterAll, beforeAll, expect, it } from "vitest";
import { type SlackFleet, startSlackFleet } from "../durable/harness.js";
import { mention } from "../fakes/slack-events.js";
import { describeRedis, useRedis } from "../helpers/redis-server.js";

/**
 * Two real bot processes on one Redis (STORE_URL=redis://), both behind "one Slack URL": the
 * test delivers each event to both, as a load balancer with Slack's retries would.
 */

describeRedis("two bot processes sharing one Redis", () => {
  const redis = useRedis();
  let fleet: SlackFleet;
  beforeAll(async () => {
    fleet = await startSlackFleet();
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("the same Slack events delivered to both make one run each", { timeout: 90_000 }, async () => {
    fleet.seedream.setScenario({ images: [{ kind: "ok" }] });
    const onRedis = { STORE_URL: redis.url(), MAX_CONCURRENT_RUNS: "10" };
    const [a, b] = await Promise.all([fleet.start(onRedis), fleet.start(onRedis)]);
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
    await fleet.api.recorder.waitFor("upload", count, { channel }, { timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    // Anything posted twice would have arrived by now: give it a moment, then count.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const prompts = fleet.seedream.requests.map((request) => String(request.body?.prompt));
    expect(prompts.sort()).toEqual(Array.from({ length: count }, (_, i) => `fox number ${i}`).sort());
    expect(fleet.api.recorder.of("upload").filter((upload) => upload.channel === channel)).toHaveLength(
      count,
    );
    // Each process got every delivery; between them they ran each message once.
    const [ranA = 0, ranB = 0] = [a, b].map(
      (bot) => bot.bot.logs.filter((line) => /run started/.test(line)).length,
    );
    expect(ranA + ranB).toBe(count);
    process.stderr.write(
      `two processes: ${count} messages x 4 deliveries -> ${count} runs in ${elapsed} ms (runs per process ${ranA}/${ranB})\n`,
    );
  });
});
