import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { referenceBytes, sha256, solidPng } from "../discord/harness.js";
import { type DiscordFleet, DURABLE_TIMEOUTS, startDiscordFleet, WAIT } from "./harness.js";

/**
 * Durable runs on Discord, end to end: real bot processes (discord.js on the fake gateway and
 * REST) on one sqlite store; a kill -9 mid-run and a restart.
 */

vi.setConfig(DURABLE_TIMEOUTS);

let fleet: DiscordFleet;
beforeAll(async () => {
  fleet = await startDiscordFleet();
});
afterAll(async () => {
  await fleet?.close();
});

it("kill -9 after image 1: after the restart the same status is edited, the channel told once, the rest arrive with the same reference", async () => {
  fleet.freshStore();
  const { discord, seedream } = fleet;
  const red = await solidPng("#d02030");
  seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
  const first = await fleet.start();
  const sent = await discord.sendMessageCreate({
    content: `${discord.mention(discord.bot)} make this lamp glow --n 3`,
    attachments: [discord.hostAttachment({ name: "lamp.png", contentType: "image/png", bytes: red })],
  });
  // The status is the first reply ("Preparing 1 reference image…"), edited as the run goes.
  const status = await discord.messages.waitFor((m) => m.replyTo === sent.id, WAIT);
  expect(status.content).toMatch(/^Preparing 1 reference image/);
  await discord.messages.waitFor((m) => m.replyTo === sent.id && m.content === "1/3", WAIT);
  // Recorded: the status says so only once the store has the delivery.
  await discord.edits.waitFor((e) => e.messageId === status.messageId && /1\/3 done/.test(e.content), WAIT);
  await first.bot.kill();

  seedream.setScenario({});
  await fleet.start();
  const told = await discord.messages.waitFor((m) => /The bot restarted/.test(m.content), WAIT);
  expect(told.content).toBe(
    "The bot restarted while making your images: 1 of 3 were delivered. Making the other 2 now.",
  );
  expect(told.replyTo).toBe(sent.id);
  await discord.edits.waitFor(
    (e) => e.messageId === status.messageId && /^Done: 3 of 3/.test(e.content),
    WAIT,
  );

  const replies = discord.messages.all.filter((m) => m.replyTo === sent.id);
  expect(replies.map((m) => m.content)).toEqual([status.content, "1/3", told.content, "2/3", "3/3"]);
  // Image 1 was not posted again: one upload per image index.
  expect(
    replies.flatMap((m) => m.uploads.map((upload) => upload.filename.replace(/^seedream-[\w-]+?-/, ""))),
  ).toEqual(["1.jpg", "2.jpg", "3.jpg"]);
  // The continuation fetched the user's reference again and asked only for what was missing.
  const [before, after] = seedream.requests;
  expect(referenceBytes(after?.body).map(sha256)).toEqual(referenceBytes(before?.body).map(sha256));
  expect(referenceBytes(after?.body)).toHaveLength(1);
  expect(after?.body?.sequential_image_generation_options).toEqual({ max_images: 2 });
});

it("/imagine, kill -9 after image 1: the restarted bot edits the command's response and posts the rest in the channel", async () => {
  fleet.freshStore();
  const { discord, seedream } = fleet;
  seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
  const first = await fleet.start();
  const state = await discord.sendInteractionCreate({
    name: "imagine",
    options: { prompt: "three kites", n: 3 },
  });
  const progress = await discord.edits.waitFor(
    (e) => e.interactionId === state.id && /1\/3 done/.test(e.content),
    WAIT,
  );
  await first.bot.kill();

  seedream.setScenario({});
  await fleet.start();
  // The restarted bot edits the command's response (through its webhook while the token lives).
  const summary = await discord.edits.waitFor(
    (e) => e.messageId === progress.messageId && /Done: 3 of 3/.test(e.content),
    WAIT,
  );
  expect(summary.content).toMatch(/^> three kites --n 3\n/);
  const inChannel = discord.messages.all.filter(
    (m) => m.channelId === state.channelId && m.seq > progress.seq,
  );
  expect(inChannel.map((m) => m.content)).toEqual([
    "The bot restarted while making your images: 1 of 3 were delivered. Making the other 2 now.",
    "2/3",
    "3/3",
  ]);
});
