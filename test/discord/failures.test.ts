import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { nextEvent } from "../fakes/discord-client-events.js";
import { type DiscordHarness, SEEDREAM_KEY, sha256, uploadOf, useDiscordHarness } from "./harness.js";

const TEN_MIB = 10 * 1024 * 1024;
let h: DiscordHarness;

// Default configuration: the 20 MB attachment below is over the default reference cap.
useDiscordHarness((started) => {
  h = started;
});

/** Sends a mention and resolves with the first message the bot answers it with. */
async function ask(text: string, input: object = {}) {
  const sent = await h.fake.sendMessageCreate({ content: h.mentionBot(text), ...input });
  const answer = await h.fake.messages.waitFor((m) => m.replyTo === sent.id);
  return { sent, answer };
}

/** Everything the bot said in reply to `messageId` once it is done: texts in order, then its edits. */
async function conversation(messageId: string) {
  await h.discord.idle();
  const replies = h.fake.messages.all.filter((m) => m.replyTo === messageId);
  const ids = new Set(replies.map((m) => m.messageId));
  return {
    replies: replies.map((m) => m.content),
    edits: h.fake.edits.all.filter((e) => ids.has(e.messageId)).map((e) => e.content),
  };
}

/** Proof the client is still connected and serving: a normal request completes. */
async function servesNextRequest() {
  h.seedream.reset();
  h.seedream.setScenario({ images: [{ kind: "ok" }] });
  const { sent } = await ask("a calm sea");
  const image = await h.fake.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
  expect(sha256(uploadOf(image))).toBe(sha256(await h.seedream.imageBytes(0)));
  expect((await conversation(sent.id)).edits.at(-1)).toMatch(/^Done: image delivered/);
  expect(h.discord.healthy()).toBe(true);
}

describe("requests that cannot be served get one clear reply, and the bot carries on", () => {
  it("a 20 MB attachment is refused without being downloaded", async () => {
    const big = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(20 * 1024 * 1024)]);
    const file = h.fake.hostAttachment({ name: "big.png", contentType: "image/png", bytes: big });
    const { sent } = await ask("use this", { attachments: [file] });
    expect(await conversation(sent.id)).toEqual({
      replies: [
        "Preparing 1 reference image…",
        "“big.png” is larger than 15 MB, the limit for reference images.",
      ],
      edits: ["Stopped before generating (see the message below)."],
    });
    expect(h.fake.cdn.requests.all.filter((r) => r.attachmentId === file.id)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
    await servesNextRequest();
  });

  it("a text file is refused by its bytes, whatever it claims", async () => {
    const file = h.fake.hostAttachment({
      name: "notes.png",
      contentType: "image/png",
      bytes: Buffer.from("just some notes\n"),
    });
    const { sent } = await ask("use this", { attachments: [file] });
    expect((await conversation(sent.id)).replies.at(-1)).toBe(
      "“notes.png” isn't an image; attach a JPEG, PNG or WebP file.",
    );
    expect(h.seedream.requests).toEqual([]);
    await servesNextRequest();
  });

  it("Seedream's 429 and 401 become one sentence each, without the key", async () => {
    h.seedream.queue({ error: { status: 429, code: "RateLimitExceeded.EndpointIPM", retryAfter: "0" } });
    const busy = await conversation((await ask("a busy day")).sent.id);
    expect(busy.replies).toEqual([
      expect.stringMatching(/^Generating an image/),
      expect.stringMatching(/^Seedream is busy right now \(rate limit reached\); please try again/),
    ]);
    expect(busy.edits.at(-1)).toMatch(/^Failed: no image delivered/);

    h.seedream.queue({
      error: { status: 401, code: "AuthenticationError", message: `The API key ${SEEDREAM_KEY} is invalid.` },
    });
    const denied = await conversation((await ask("a locked door")).sent.id);
    expect(denied.replies.at(-1)).toMatch(
      /^Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY/,
    );
    const everything = [...h.fake.messages.all, ...h.fake.edits.all].map((m) => m.content).join("\n");
    expect(everything).not.toContain(SEEDREAM_KEY);
    expect(h.log.lines.join("\n")).not.toContain(SEEDREAM_KEY);
    await servesNextRequest();
  });

  it("an image over Discord's 10 MiB limit is re-encoded to fit", async () => {
    const noise = await sharp({
      create: {
        width: 2000,
        height: 1900,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 70 },
      },
    })
      .png({ compressionLevel: 1 })
      .toBuffer();
    expect(noise.length).toBeGreaterThan(TEN_MIB);
    h.seedream.setScenario({ images: [{ kind: "ok", bytes: noise }] });
    const { sent } = await ask("television static");
    const image = await h.fake.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
    const posted = uploadOf(image);
    expect(posted.length).toBeLessThanOrEqual(TEN_MIB);
    const meta = await sharp(posted).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 2000, 1900]);
    expect(image.uploads[0]?.filename).toMatch(/\.jpg$/);
  });
});

describe("missing permissions", () => {
  it("without Attach Files the user is told by DM which permission is missing, and nothing is generated", async () => {
    const art = h.fake.channel("art");
    const updated = nextEvent(h.discord.client, "channelUpdate");
    await h.fake.setBotPermissions(art.id, { deny: ["AttachFiles"] });
    await updated;
    try {
      const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("a mural"), channelId: art.id });
      const dm = await h.fake.messages.waitFor((m) => m.channelId === h.fake.dmChannelId("alice"));
      expect(dm.content).toBe(
        "I can't answer your request in #art: I'm missing the Attach Files permission there. A server admin can grant it to me in the channel's settings → Permissions.",
      );
      await h.log.waitFor(/missing Discord permission in #art: Attach Files/);
      await h.discord.idle();
      expect(h.seedream.requests).toEqual([]);
      expect(h.fake.messages.all.filter((m) => m.replyTo === sent.id)).toEqual([]);
    } finally {
      const restored = nextEvent(h.discord.client, "channelUpdate");
      await h.fake.setBotPermissions(art.id, {});
      await restored;
    }
    await servesNextRequest();
  });

  it("losing Attach Files mid-run: the user gets a DM, the thread says the image could not be posted", async () => {
    const art = h.fake.channel("art");
    h.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });
    const { sent, answer: status } = await ask("a mosaic", { channelId: art.id });
    await h.seedream.reached(0);
    const updated = nextEvent(h.discord.client, "channelUpdate");
    await h.fake.setBotPermissions(art.id, { deny: ["AttachFiles"] });
    await updated;
    try {
      h.seedream.release(0);
      const dm = await h.fake.messages.waitFor(
        (m) => m.channelId === h.fake.dmChannelId("alice") && m.seq > status.seq,
      );
      expect(dm.content).toContain("I'm missing the Attach Files permission there");
      const inline = await h.fake.messages.waitFor((m) => m.replyTo === sent.id && m.seq > status.seq);
      expect(inline.content).toBe("Image 1/1 was generated but could not be posted here.");
      const summary = await h.fake.edits.waitFor(
        (e) => e.messageId === status.messageId && /^Done/.test(e.content),
      );
      expect(summary.content).toMatch(/^Done: no image delivered, 1 failed/);
    } finally {
      const restored = nextEvent(h.discord.client, "channelUpdate");
      await h.fake.setBotPermissions(art.id, {});
      await restored;
    }
    await servesNextRequest();
  });
});
