import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type SlackRestorerHandle, SlackStartError, startSlackRestorer } from "../../adapters/slack/index.js";
import { createLogger } from "../../src/logger.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { continueOn } from "../helpers/continue-on.js";
import { RecordingLog } from "../helpers/recording-log.js";
import { SEEDREAM_KEY, startSlackHarness } from "./harness.js";

/**
 * Slack for a worker (BOT_ROLE=worker): the Web API alone, no HTTP receiver and no Socket Mode
 * (so no signing secret or app token). A run a gateway recorded and was stopped during is
 * continued by it in the same thread, its status message edited in place.
 */

let api: FakeSlackApi;
let seedream: FakeSeedream;
let dir: string;
beforeAll(async () => {
  [api, seedream] = await Promise.all([FakeSlackApi.start(), startFakeSeedream()]);
  dir = await mkdtemp(join(tmpdir(), "seedream-slack-web-"));
});
afterAll(async () => {
  await Promise.allSettled([api.close(), seedream.close()]);
  await rm(dir, { recursive: true, force: true });
});

const logger = (log = new RecordingLog()) =>
  createLogger({ format: "pretty", level: "debug", secrets: [SEEDREAM_KEY, api.botToken], write: log.write });

it("continues a run a gateway recorded: the rest of the images in its thread, the same status edited, no receiver", async () => {
  const channel = "C0WORKER01";
  const storeUrl = `sqlite://${join(dir, "gateway-worker.sqlite")}`;
  seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
  const gateway = await startSlackHarness({ STORE_URL: storeUrl }, {}, {}, { api, seedream });
  const message = gateway.sender.userMessage({ text: gateway.mentionBot("two herons --n 2"), channel });
  await gateway.sender.deliver(message, "app_mention");
  await api.recorder.waitFor("upload", 1, { channel, threadTs: message.ts });
  await seedream.reached(1);
  await gateway.runtime.handler.drain(50);
  await gateway.close();
  const [status] = api.recorder
    .of("message")
    .filter((m) => m.channel === channel && m.threadTs === message.ts);
  const callsBefore = api.calls.length;

  seedream.setScenario({});
  let worker: SlackRestorerHandle | undefined;
  const summary = await continueOn(gateway.config, {
    seedreamUrl: seedream.url,
    apiKey: SEEDREAM_KEY,
    logger: logger(),
    // The bot token and the API URL only: nothing to receive events with.
    start: async () => {
      worker = await startSlackRestorer({
        slack: { botToken: api.botToken, apiUrl: api.apiUrl },
        logger: logger(),
        slackRetries: 0,
      });
      expect(worker.healthy()).toBe(true);
      expect(worker.botUserId).toBe(api.botUserId);
      return worker;
    },
  });
  expect(summary).toMatchObject({ continued: 1 });
  expect(worker?.healthy()).toBe(false);

  const uploads = api.recorder.of("upload").filter((u) => u.channel === channel);
  expect(uploads.map((u) => u.threadTs)).toEqual([message.ts, message.ts]);
  // Image 1 was not posted again: one upload per image index.
  expect(uploads.map((u) => u.filename.replace(/^seedream-[\w-]+?-/, ""))).toEqual(["1.jpg", "2.jpg"]);
  expect(uploads.every((u) => u.bytes.length > 0 && u.bytes.length === u.declaredLength)).toBe(true);
  const told = api.recorder
    .of("message")
    .filter((m) => m.channel === channel && /The bot restarted/.test(m.text ?? ""));
  expect(told.map((m) => [m.threadTs, m.text])).toEqual([
    [
      message.ts,
      "The bot restarted while making your images: 1 of 2 were delivered. Making the last one now.",
    ],
  ]);
  // The status the gateway posted is the one edited to the end.
  expect(status).toBeDefined();
  const last = api.recorder
    .of("update")
    .filter((u) => u.channel === channel && u.ts === status?.ts)
    .at(-1);
  expect(last?.text).toMatch(/^Done: 2 of 2 images delivered .*\(resumed after a restart\)/);
  const workerMethods = new Set(api.calls.slice(callsBefore).map((call) => call.method));
  expect(workerMethods.has("auth.test")).toBe(true);
  expect(workerMethods.has("apps.connections.open")).toBe(false);
});

it("is not ready while Slack refuses its token, and ready again once the token works", async () => {
  const log = new RecordingLog();
  const worker = await startSlackRestorer({
    slack: { botToken: api.botToken, apiUrl: api.apiUrl },
    logger: logger(log),
    slackRetries: 0,
  });
  try {
    const thread = worker.restorer.thread({
      platform: "slack",
      channel: "C0REVOKED1",
      thread: "1700000000.000100",
    });
    api.failNext("chat.postMessage", { error: "token_revoked" });
    await expect(thread.postText("one")).rejects.toThrow();
    expect(worker.healthy()).toBe(false);
    expect(log.count(/Slack refused SLACK_BOT_TOKEN \(token_revoked\)/)).toBe(1);
    await thread.postText("two");
    expect(worker.healthy()).toBe(true);
  } finally {
    await worker.stop();
  }
});

it("refuses a bad bot token at start-up in one line naming SLACK_BOT_TOKEN", async () => {
  const failure = await startSlackRestorer({
    slack: { botToken: "xoxb-not-the-token", apiUrl: api.apiUrl },
    logger: logger(),
    slackRetries: 0,
  }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(SlackStartError);
  expect((failure as Error).message).toMatch(/^Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/);
});
