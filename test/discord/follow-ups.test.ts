/**
 * One-click follow-ups on Discord, through real discord.js against the fake: each image message
 * carries Again / Vary / Edit… (custom_ids `seedream:again:` …), the running status carries
 * `seedream:cancel:`; presses are answered within 3 s (deferUpdate, or the Edit modal), modal
 * submits start edits, and "Edit with Seedream" edits anyone's image. Results are replies to the
 * pressed (or edited) message in its channel.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PostedMessage } from "../fakes/discord.js";
import { looksSame, referencesOf } from "../helpers/thumbnail.js";
import {
  type DiscordHarness,
  referenceBytes,
  sha256,
  solidPng,
  startDiscordHarness,
  useDiscordHarness,
} from "./harness.js";

let h: DiscordHarness;
let green: Buffer;

useDiscordHarness((started) => {
  h = started;
});
beforeAll(async () => {
  green = await solidPng("#20a040", 96, 64);
});

type Row = { components?: { custom_id?: string }[] };
const customIds = (message: PostedMessage | undefined): string[] =>
  ((message?.components ?? []) as Row[]).flatMap((row) =>
    (row.components ?? []).map((c) => c.custom_id ?? ""),
  );
const summaryOf = (statusId: string) =>
  h.fake.edits.waitFor((e) => e.messageId === statusId && /^(Done|Failed|Cancelled)/.test(e.content));
const callbacksOf = (interactionId: string) =>
  h.fake.interactions.callbacks.all.filter((c) => c.interactionId === interactionId);

/** A mention with the green photo asking for `n` images, answered in full; its image messages. */
async function mentionRun(prompt: string, n: number) {
  h.seedream.setScenario({ images: Array.from({ length: n }, () => ({ kind: "ok" as const })) });
  const photo = h.fake.hostAttachment({ name: "green.png", bytes: green, contentType: "image/png" });
  const sent = await h.fake.sendMessageCreate({
    content: h.mentionBot(`${prompt} --n ${n}`),
    attachments: [photo],
  });
  const status = await h.fake.messages.waitFor((m) => m.replyTo === sent.id);
  await summaryOf(status.messageId);
  const images = h.fake.messages.all.filter((m) => m.replyTo === sent.id && m.uploads.length > 0);
  expect(images).toHaveLength(n);
  return { sent, status, images };
}

describe("image buttons", () => {
  it("each image message carries Again / Vary / Edit… with its key, within Discord's limits", async () => {
    const { images } = await mentionRun("two owls", 2);
    for (const image of images) {
      const ids = customIds(image);
      expect(ids.map((id) => id.split(":").slice(0, 2).join(":"))).toEqual([
        "seedream:again",
        "seedream:vary",
        "seedream:edit",
      ]);
      for (const id of ids) expect(id.length).toBeLessThanOrEqual(100);
    }
  });

  it("Again, pressed by someone else: deferred within 3 s, same prompt and reference bytes, results replying to the pressed image", async () => {
    const { images } = await mentionRun("a green fox", 2);
    const pressed = images[1] as PostedMessage;
    const press = await h.fake.pressButton({
      messageId: pressed.messageId,
      customId: customIds(pressed)[0] ?? "",
      user: "bob",
    });
    const again = await h.seedream.request(1);
    expect(callbacksOf(press.id)).toMatchObject([{ type: 6, late: false }]);
    expect(again.body).toMatchObject({
      prompt: "a green fox",
      sequential_image_generation_options: { max_images: 2 },
    });
    expect(referenceBytes(again.body).map(sha256)).toEqual(
      referenceBytes(h.seedream.requests[0]?.body).map(sha256),
    );
    expect(await looksSame(referencesOf(again)[0] ?? "", green)).toBe(true);
    const status = await h.fake.messages.waitFor((m) => m.replyTo === pressed.messageId);
    await summaryOf(status.messageId);
    const results = h.fake.messages.all.filter(
      (m) => m.replyTo === pressed.messageId && m.uploads.length > 0,
    );
    expect(results).toHaveLength(2);
    expect(results.every((m) => m.channelId === pressed.channelId)).toBe(true);
    const record = await h.runtime.store.findImage("discord", results[0]?.messageId ?? "");
    expect((await h.runtime.store.getRun(record?.runId ?? ""))?.userId).toBe(h.fake.user("bob").id);
  });

  it("Vary: the pressed image is the only reference, with the original prompt and n", async () => {
    const { images } = await mentionRun("three pears", 3);
    const pressed = images[2] as PostedMessage;
    await h.fake.pressButton({ messageId: pressed.messageId, customId: customIds(pressed)[1] ?? "" });
    const vary = await h.seedream.request(1);
    expect(vary.body).toMatchObject({
      prompt: "three pears",
      sequential_image_generation_options: { max_images: 3 },
    });
    const references = referencesOf(vary);
    expect(references).toHaveLength(1);
    expect(await looksSame(references[0] ?? "", pressed.uploads[0]?.bytes ?? Buffer.alloc(0))).toBe(true);
    expect(await looksSame(references[0] ?? "", green)).toBe(false);
    await summaryOf((await h.fake.messages.waitFor((m) => m.replyTo === pressed.messageId)).messageId);
  });

  it("Edit…: a modal (seedream:edit:, text input prompt, keep checkbox); its submit edits the image in the same channel", async () => {
    const { images } = await mentionRun("a barn", 1);
    const pressed = images[0] as PostedMessage;
    const press = await h.fake.pressButton({
      messageId: pressed.messageId,
      customId: customIds(pressed)[2] ?? "",
      user: "bob",
    });
    await h.fake.interactions.callbacks.waitFor((c) => c.interactionId === press.id);
    expect(callbacksOf(press.id)).toMatchObject([{ type: 9, late: false }]);
    const modal = h.fake.interactions.get(press.id)?.modal;
    expect(modal?.customId.startsWith("seedream:edit:")).toBe(true);
    expect(modal?.fields.map((f) => f.customId)).toEqual(["prompt", "keep"]);

    const submit = await h.fake.submitModal({
      modalOf: press.id,
      values: { prompt: "make it snow --ar 16:9", keep: true },
    });
    const edit = await h.seedream.request(1);
    expect(callbacksOf(submit.id)).toMatchObject([{ type: 6, late: false }]);
    expect(edit.body).toMatchObject({ prompt: "make it snow", size: "2560x1440" });
    const references = referencesOf(edit);
    expect(references).toHaveLength(2);
    expect(await looksSame(references[0] ?? "", pressed.uploads[0]?.bytes ?? Buffer.alloc(0))).toBe(true);
    expect(await looksSame(references[1] ?? "", green)).toBe(true);
    const status = await h.fake.messages.waitFor((m) => m.replyTo === pressed.messageId);
    await summaryOf(status.messageId);
  });
});

describe("Cancel", () => {
  it("the running status carries seedream:cancel:; a stranger is told privately, the requester's press closes the stream", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("two kites --n 2") });
    await h.seedream.reached(1);
    const status = await h.fake.messages.waitFor((m) => m.replyTo === sent.id);
    const withButton =
      customIds(status).length > 0
        ? status
        : await h.fake.edits.waitFor((e) => e.messageId === status.messageId && customIds(e).length > 0);
    const cancelId = customIds(withButton)[0] ?? "";
    expect(cancelId.startsWith("seedream:cancel:")).toBe(true);

    const stranger = await h.fake.pressButton({
      messageId: status.messageId,
      customId: cancelId,
      user: "bob",
    });
    const told = await h.fake.messages.waitFor((m) => m.interactionId === stranger.id);
    expect(callbacksOf(stranger.id)).toMatchObject([{ type: 6, late: false }]);
    expect(told).toMatchObject({ flags: 64, content: `Only <@${h.fake.user("alice").id}> can cancel this.` });
    expect(told.pings.users).toEqual([]);
    expect(h.seedream.wasSent(1)).toBe(false);

    await h.fake.pressButton({ messageId: status.messageId, customId: cancelId, user: "alice" });
    expect(await h.seedream.closed(0)).toBe("aborted");
    const summary = await summaryOf(status.messageId);
    expect(summary.content).toMatch(/^Cancelled/);
    await h.discord.idle();
    expect(customIds(h.fake.edits.all.filter((e) => e.messageId === status.messageId).at(-1))).toEqual([]);
  });
});

describe("Edit with Seedream", () => {
  it("is registered next to /imagine and edits someone else's image, even without the Message Content intent", async () => {
    const registered = h.fake.commands.registrations.all.at(-1)?.commands.map((c) => [c.name, c.type]) ?? [];
    expect(registered).toEqual(
      expect.arrayContaining([
        ["imagine", 1],
        ["Edit with Seedream", 3],
      ]),
    );
    const photo = h.fake.hostAttachment({ name: "bobs.png", bytes: green, contentType: "image/png" });
    // Bob's message does not mention the bot: the gateway strips it for a bot without Message Content.
    const target = await h.fake.sendMessageCreate({
      author: "bob",
      content: "my garden",
      attachments: [photo],
    });
    h.seedream.setScenario({ images: [{ kind: "ok" }] });

    const invoke = await h.fake.invokeMessageCommand({
      name: "Edit with Seedream",
      messageId: target.id,
      user: "alice",
    });
    await h.fake.interactions.callbacks.waitFor((c) => c.interactionId === invoke.id);
    expect(callbacksOf(invoke.id)).toMatchObject([{ type: 9, late: false }]);
    expect(h.fake.interactions.get(invoke.id)?.modal?.customId.startsWith("seedream:edit:")).toBe(true);

    const submit = await h.fake.submitModal({ modalOf: invoke.id, values: { prompt: "as a watercolour" } });
    const request = await h.seedream.request(0);
    expect(callbacksOf(submit.id)).toMatchObject([{ type: 5, late: false }]);
    expect(request.body?.prompt).toBe("as a watercolour");
    expect(referenceBytes(request.body).map(sha256)).toEqual([sha256(green)]);
    const status = await h.fake.messages.waitFor((m) => m.replyTo === target.id && m.via === "channel");
    await summaryOf(status.messageId);
    expect(h.fake.messages.all.filter((m) => m.replyTo === target.id && m.uploads.length > 0)).toHaveLength(
      1,
    );
  });

  it("a message without images gets a private sentence and no modal", async () => {
    const target = await h.fake.sendMessageCreate({ author: "bob", content: "just words" });
    const invoke = await h.fake.invokeMessageCommand({ name: "Edit with Seedream", messageId: target.id });
    const told = await h.fake.messages.waitFor((m) => m.interactionId === invoke.id);
    expect(told).toMatchObject({ flags: 64, content: "That message has no images to edit." });
  });
});

describe("after a restart", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "seedream-discord-buttons-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a press on an image posted before the restart works (sqlite store); one whose record is gone is told it is too old", async () => {
    const reuse = { fake: h.fake, seedream: h.seedream };
    const env = { STORE_URL: `sqlite://${join(dir, "bot.sqlite")}` };
    await h.discord.stop();
    const before = await startDiscordHarness({ env, reuse });
    let pressed: PostedMessage;
    try {
      h.seedream.setScenario({ images: [{ kind: "ok" }] });
      const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("an old clock") });
      const status = await h.fake.messages.waitFor((m) => m.replyTo === sent.id);
      await summaryOf(status.messageId);
      pressed = h.fake.messages.all.find(
        (m) => m.replyTo === sent.id && m.uploads.length > 0,
      ) as PostedMessage;
    } finally {
      await before.close();
    }
    const after = await startDiscordHarness({ env, reuse });
    try {
      await h.fake.pressButton({ messageId: pressed.messageId, customId: customIds(pressed)[0] ?? "" });
      expect((await h.seedream.request(1)).body?.prompt).toBe("an old clock");
      await summaryOf((await h.fake.messages.waitFor((m) => m.replyTo === pressed.messageId)).messageId);
    } finally {
      await after.close();
    }
    const forgotten = await startDiscordHarness({
      env: { STORE_URL: `sqlite://${join(dir, "empty.sqlite")}` },
      reuse,
    });
    try {
      const press = await h.fake.pressButton({
        messageId: pressed.messageId,
        customId: customIds(pressed)[1] ?? "",
      });
      const told = await h.fake.messages.waitFor((m) => m.interactionId === press.id);
      expect(told).toMatchObject({
        flags: 64,
        content: "This image is too old to reuse; reply to it with the image attached.",
      });
      const edit = await h.fake.pressButton({
        messageId: pressed.messageId,
        customId: customIds(pressed)[2] ?? "",
      });
      const toldEdit = await h.fake.messages.waitFor((m) => m.interactionId === edit.id);
      expect(toldEdit.content).toBe("This image is too old to reuse; reply to it with the image attached.");
      expect(h.fake.interactions.get(edit.id)?.modal).toBeUndefined();
      expect(h.seedream.requests).toHaveLength(2);
    } finally {
      await forgotten.close();
    }
  });
});
