import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { DiscordStartError, startDiscordRestorer } from "../../adapters/discord/index.js";
import type { Config } from "../../src/config.js";
import type { ThreadAddress } from "../../src/core/ports.js";
import { createLogger } from "../../src/logger.js";
import { FakeDiscord } from "../fakes/discord.js";
import { userMessage } from "../fakes/discord-incoming.js";
import { fakePng, sha256 } from "../fakes/jpeg.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { continueOn } from "../helpers/continue-on.js";
import { RecordingLog } from "../helpers/recording-log.js";
import { SEEDREAM_KEY, startDiscordHarness, uploadOf } from "./harness.js";

/**
 * Discord for a worker (BOT_ROLE=worker): the restorer alone, on REST, never logged in to the
 * gateway. It must post into a thread a gateway recorded earlier exactly as the logged-in
 * adapter would: images replying to the request, the recorded status edited in place, typing.
 */

let fake: FakeDiscord;
let seedream: FakeSeedream;
let dir: string;
let log: RecordingLog;
beforeAll(async () => {
  [fake, seedream] = await Promise.all([FakeDiscord.start(), startFakeSeedream()]);
  dir = await mkdtemp(join(tmpdir(), "seedream-discord-rest-"));
});
afterAll(async () => {
  await Promise.allSettled([fake.close(), seedream.close()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seedream.reset();
  log = new RecordingLog();
});

const logger = () =>
  createLogger({ format: "pretty", level: "debug", secrets: [SEEDREAM_KEY, fake.token], write: log.write });

/** A worker on the gateway's store: continues what the gateway left, through the REST-only restorer. */
const continueOnWorker = (config: Config) =>
  continueOn(config, {
    seedreamUrl: seedream.url,
    apiKey: SEEDREAM_KEY,
    logger: logger(),
    start: () =>
      startDiscordRestorer({ discord: { token: fake.token, apiUrl: fake.apiUrl }, logger: logger() }),
  });

/** A message the bot posted earlier (through REST, as a gateway process would have). */
async function botPost(channelId: string, body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await fetch(`${fake.apiUrl}/v10/channels/${channelId}/messages`, {
    method: "POST",
    headers: { authorization: `Bot ${fake.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string };
}

it("posts an image, status edits and typing into a recorded guild-channel thread with no gateway connection", async () => {
  const identifies = fake.gateway.identifies.count;
  const channel = fake.channel();
  // In the world only: no gateway session to dispatch it to (this process never connects one).
  const request = userMessage(fake.world, { content: `${fake.mention(fake.bot)} a lamp --n 1` }).data;
  const status = await botPost(channel.id, {
    content: "Waiting: you are number 2 in line.",
    message_reference: { message_id: request.id },
  });
  const address: ThreadAddress = {
    platform: "discord",
    channel: channel.id,
    thread: request.id,
    statusMessageId: status.id,
  };

  const worker = await startDiscordRestorer({
    discord: { token: fake.token, apiUrl: fake.apiUrl },
    logger: logger(),
  });
  try {
    expect(worker.healthy()).toBe(true);
    expect(worker.botUserId).toBe(fake.bot.id);
    const thread = worker.restorer.thread(address);
    await thread.typing?.();
    await thread.updateStatus("Making 1 image… 0/1 done");
    const bytes = await fakePng(1);
    const posted = await thread.postImage({
      key: { runId: "r1", index: 0 },
      bytes,
      fileName: "seedream-r1-1.png",
      mimeType: "image/png",
      caption: "1/1",
      altText: "a lamp",
    });
    await thread.updateStatus("Done: 1 of 1 image delivered.");
    await thread.finish?.();

    const image = await fake.messages.waitFor((m) => m.messageId === posted.messageId);
    expect(image).toMatchObject({
      channelId: channel.id,
      replyTo: request.id,
      content: "1/1",
      via: "channel",
    });
    expect(sha256(uploadOf(image))).toBe(sha256(bytes));
    // The recorded status is edited in place, never posted again.
    const edits = fake.edits.all.filter((e) => e.messageId === status.id).map((e) => e.content);
    expect(edits).toEqual(["Making 1 image… 0/1 done", "Done: 1 of 1 image delivered."]);
    expect(fake.messages.all.filter((m) => m.replyTo === request.id).map((m) => m.messageId)).toEqual([
      status.id,
      posted.messageId,
    ]);
    expect(fake.typing.all.map((t) => t.channelId)).toContain(channel.id);
    // Where its image can be fetched again (a later reply edits it) points at the new message.
    expect(posted.ref).toBe(`${channel.id}/${posted.messageId}`);
    const again = await worker.restorer.storedImage({
      platform: "discord",
      conversationId: channel.id,
      messageId: posted.messageId,
      ...(posted.ref === undefined ? {} : { ref: posted.ref }),
      fileName: "seedream-r1-1.png",
      mimeType: "image/png",
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of (await again.fetch(new AbortController().signal)).body) chunks.push(chunk);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(bytes));
  } finally {
    await worker.stop();
  }
  expect(worker.healthy()).toBe(false);
  expect(fake.gateway.identifies.count).toBe(identifies);
  expect(fake.gateway.identifies.count).toBe(0);
  // Not even asked where the gateway is.
  expect(fake.requests.all.map((r) => r.route).filter((route) => route.includes("gateway"))).toEqual([]);
  expect(fake.requests.all.map((r) => r.route)).toContain("GET /channels/:channelId");
});

it("is no longer ready once Discord refuses the token it started with (reset in the portal)", async () => {
  const worker = await startDiscordRestorer({
    discord: { token: fake.token, apiUrl: fake.apiUrl },
    logger: logger(),
  });
  try {
    const thread = worker.restorer.thread({ platform: "discord", channel: fake.channel().id });
    await thread.postText("one");
    expect(worker.healthy()).toBe(true);
    fake.failNext("POST /channels/:channelId/messages", { status: 401, message: "401: Unauthorized" });
    await expect(thread.postText("two")).rejects.toThrow();
    expect(worker.healthy()).toBe(false);
    expect(log.count(/Discord refused DISCORD_TOKEN/)).toBe(1);
  } finally {
    await worker.stop();
  }
});

it("refuses a bad token at start-up in one line naming DISCORD_TOKEN", async () => {
  const failure = await startDiscordRestorer({
    discord: { token: "not-the-token", apiUrl: fake.apiUrl },
    logger: logger(),
  }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(DiscordStartError);
  expect((failure as Error).message).toMatch(/^Discord refused DISCORD_TOKEN: /);
  expect(fake.gateway.identifies.count).toBe(0);
});

it("continues a run a gateway recorded and was stopped during: told once, the rest posted, the same status edited", async () => {
  const storeUrl = `sqlite://${join(dir, "gateway-worker.sqlite")}`;
  seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
  const gateway = await startDiscordHarness({ env: { STORE_URL: storeUrl }, reuse: { fake, seedream } });
  const sent = await fake.sendMessageCreate({ content: gateway.mentionBot("two lamps --n 2") });
  const status = await fake.messages.waitFor((m) => m.replyTo === sent.id);
  await fake.messages.waitFor((m) => m.replyTo === sent.id && m.content === "1/2");
  await seedream.reached(1);
  await gateway.runtime.handler.drain(50);
  await gateway.close();
  const identifies = fake.gateway.identifies.count;

  seedream.setScenario({});
  expect(await continueOnWorker(gateway.config)).toMatchObject({ continued: 1 });
  const replies = fake.messages.all.filter((m) => m.replyTo === sent.id);
  expect(replies.map((m) => m.content)).toEqual([
    status.content,
    "1/2",
    "The bot restarted while making your images: 1 of 2 were delivered. Making the last one now.",
    "2/2",
  ]);
  expect(replies.at(-1)?.uploads).toHaveLength(1);
  const last = fake.edits.all.filter((e) => e.messageId === status.messageId).at(-1);
  expect(last?.content).toMatch(/^Done: 2 of 2 images delivered .*\(resumed after a restart\)$/);
  // The worker never opened the gateway: the only Identify is the gateway process's.
  expect(fake.gateway.identifies.count).toBe(identifies);
  expect(identifies).toBe(1);
});

it("/imagine continued by a worker: the response is edited and images follow up through the interaction's webhook", async () => {
  const storeUrl = `sqlite://${join(dir, "imagine-worker.sqlite")}`;
  seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
  const gateway = await startDiscordHarness({ env: { STORE_URL: storeUrl }, reuse: { fake, seedream } });
  const state = await fake.sendInteractionCreate({ name: "imagine", options: { prompt: "two kites", n: 2 } });
  const progress = await fake.edits.waitFor(
    (e) => e.interactionId === state.id && /1\/2 done/.test(e.content),
  );
  await seedream.reached(1);
  await gateway.runtime.handler.drain(50);
  await gateway.close();
  const after = fake.messages.count;

  seedream.setScenario({});
  expect(await continueOnWorker(gateway.config)).toMatchObject({ continued: 1 });
  const posted = fake.messages.all.slice(after);
  expect(posted.map((m) => [m.content, m.via, m.interactionId])).toEqual([
    [
      "The bot restarted while making your images: 1 of 2 were delivered. Making the last one now.",
      "interaction",
      state.id,
    ],
    ["2/2", "interaction", state.id],
  ]);
  const summary = fake.edits.all.filter((e) => e.messageId === progress.messageId).at(-1);
  expect(summary).toMatchObject({ via: "interaction", interactionId: state.id });
  expect(summary?.content).toMatch(/^> two kites --n 2\nDone: 2 of 2 images delivered/);
});

it.each([
  ["expired by the clock", -1_000, false],
  ["refused by Discord", 60_000, true],
])(
  "a slash command's webhook %s: the status is edited and images posted through the channel",
  async (_case, left, tried) => {
    const channel = fake.channel();
    const status = await botPost(channel.id, { content: "> a kite\nWaiting: you are number 1 in line." });
    const address: ThreadAddress = {
      platform: "discord",
      channel: channel.id,
      statusMessageId: status.id,
      // A token Discord does not know (any more): what one looks like after its 15 minutes.
      details: {
        heading: "a kite",
        webhook: `${fake.applicationId}/expired-token`,
        webhookUntil: String(Date.now() + left),
      },
    };
    const requests = fake.requests.count;
    const worker = await startDiscordRestorer({
      discord: { token: fake.token, apiUrl: fake.apiUrl },
      logger: logger(),
    });
    try {
      const thread = worker.restorer.thread(address);
      await thread.updateStatus("Making 1 image…");
      const image = await thread.postImage({
        key: { runId: "r2", index: 0 },
        bytes: await fakePng(2),
        fileName: "seedream-r2-1.png",
        mimeType: "image/png",
        caption: "1/1",
        altText: "a kite",
      });
      expect(fake.edits.all.at(-1)).toMatchObject({
        messageId: status.id,
        via: "channel",
        content: "> a kite\nMaking 1 image…",
      });
      expect(fake.messages.all.find((m) => m.messageId === image.messageId)).toMatchObject({
        via: "channel",
        channelId: channel.id,
      });
      // Refused once, the webhook is not asked again for the image.
      const webhookCalls = fake.requests.all
        .slice(requests)
        .filter((r) => r.route.startsWith("PATCH /webhooks") || r.route.startsWith("POST /webhooks"));
      expect(webhookCalls.map((r) => [r.route, r.status])).toEqual(
        tried ? [["PATCH /webhooks/:appId/:token/messages/:messageId", 404]] : [],
      );
    } finally {
      await worker.stop();
    }
  },
);
