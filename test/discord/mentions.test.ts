import { beforeAll, describe, expect, it } from "vitest";
import type { PostedMessage } from "../fakes/discord.js";
import {
  type DiscordHarness,
  NOBODY,
  referenceBytes,
  sha256,
  solidPng,
  uploadOf,
  useDiscordHarness,
} from "./harness.js";

let h: DiscordHarness;
let red: Buffer;
let blue: Buffer;

useDiscordHarness((started) => {
  h = started;
});
beforeAll(async () => {
  [red, blue] = await Promise.all([solidPng("#d02030"), solidPng("#2040d0")]);
});

/** Resolves with the edit that put a summary into the status message `statusId`. */
const summaryOf = (statusId: string) =>
  h.fake.edits.waitFor((e) => e.messageId === statusId && /^(Done|Failed|Cancelled)/.test(e.content));

const expectNoPings = (messages: PostedMessage[]) => {
  for (const message of messages) {
    expect(message.allowedMentions?.parse).toEqual([]);
    expect(message.pings).toEqual(NOBODY);
  }
};

describe("a mention", () => {
  it("gets a status reply, each image as its own reply the moment it arrives, then the summary", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("a lighthouse at dusk --n 3") });

    const status = await h.fake.nextMessage();
    expect(status.replyTo).toBe(sent.id);
    expect(status.content).toMatch(/^Generating 3 images with Seedream/);
    const first = await h.fake.nextMessage();
    expect(first).toMatchObject({ replyTo: sent.id, content: "1/3" });
    expect(sha256(uploadOf(first))).toBe(sha256(await h.seedream.imageBytes(0)));
    // Image 1 is in the channel while the API is still holding image 2.
    expect(h.seedream.wasSent(1)).toBe(false);
    h.seedream.release(1);

    const second = await h.fake.nextMessage();
    const third = await h.fake.nextMessage();
    expect([second.content, third.content]).toEqual(["2/3", "3/3"]);
    expect(sha256(uploadOf(second))).toBe(sha256(await h.seedream.imageBytes(1)));
    expect(sha256(uploadOf(third))).toBe(sha256(await h.seedream.imageBytes(2)));
    for (const image of [first, second, third]) {
      expect(image.replyTo).toBe(sent.id);
      expect(image.uploads[0]?.description).toBe("a lighthouse at dusk");
    }
    const summary = await summaryOf(status.messageId);
    expect(summary.content).toMatch(/^Done: 3 of 3 images delivered/);
    expect(h.seedream.requests[0]?.body).toMatchObject({
      prompt: "a lighthouse at dusk",
      sequential_image_generation_options: { max_images: 3 },
    });
    await h.fake.typing.waitFor((t) => t.channelId === sent.channel_id);
    // Replies would ping their author by default: none of these does.
    expectNoPings([status, first, second, third, summary]);
  });

  it("posts a moderation failure inline at its position and goes on with the run", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }] });
    const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("three foxes --n 3") });
    const status = await h.fake.nextMessage();
    const posts = [await h.fake.nextMessage(), await h.fake.nextMessage(), await h.fake.nextMessage()];
    expect(posts.map((p) => [p.content, p.uploads.length])).toEqual([
      ["1/3", 1],
      ["Image 2/3 was blocked by Seedream's content filter.", 0],
      ["3/3", 1],
    ]);
    expect(posts.every((p) => p.replyTo === sent.id)).toBe(true);
    expect(sha256(uploadOf(posts[2] as PostedMessage))).toBe(sha256(await h.seedream.imageBytes(2)));
    const summary = await summaryOf(status.messageId);
    expect(summary.content).toMatch(/^Done: 2 of 3 images delivered, 1 blocked by the content filter/);
  });

  it("sends the mention's attachments as references, in order, downloaded from the CDN", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const files = [
      h.fake.hostAttachment({ name: "red.png", contentType: "image/png", bytes: red, width: 80, height: 60 }),
      h.fake.hostAttachment({
        name: "blue.png",
        contentType: "image/png",
        bytes: blue,
        width: 80,
        height: 60,
      }),
    ];
    await h.fake.sendMessageCreate({
      content: h.mentionBot("blend image 1 and image 2"),
      attachments: files,
    });
    const request = await h.seedream.request(0);
    expect(request.body?.prompt).toBe("blend image 1 and image 2");
    expect(referenceBytes(request.body).map(sha256)).toEqual([sha256(red), sha256(blue)]);
    const downloads = h.fake.cdn.requests.all.filter((r) => files.some((f) => f.id === r.attachmentId));
    expect(downloads.map((d) => [d.attachmentId, d.status])).toEqual(files.map((f) => [f.id, 200]));
    const status = await h.fake.nextMessage();
    await summaryOf(status.messageId);
  });

  it("turns other mentions into names and keeps the bot's own mention out of the prompt", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const bob = h.fake.user("bob");
    const content = `${h.fake.mention(h.fake.bot)} a portrait of ${h.fake.mention(bob)} in #oil`;
    await h.fake.sendMessageCreate({ content });
    expect((await h.seedream.request(0)).body?.prompt).toBe("a portrait of @Bob in #oil");
    await summaryOf((await h.fake.nextMessage()).messageId);
  });

  it("works in a DM without any mention", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const sent = await h.fake.sendMessageCreate({ dm: true, content: "a paper boat" });
    const status = await h.fake.nextMessage();
    expect(status).toMatchObject({ channelId: h.fake.dmChannelId("alice"), replyTo: sent.id });
    const image = await h.fake.nextMessage();
    expect(image.content).toBe("1/1");
    expect(sha256(uploadOf(image))).toBe(sha256(await h.seedream.imageBytes(0)));
    await summaryOf(status.messageId);
  });
});

describe("messages that are not for the bot", () => {
  it("@everyone, role mentions, other bots and plain chatter start nothing", async () => {
    const { fake } = h;
    const ignored = [
      { content: "@everyone draw a cat" },
      { content: `${fake.mention(fake.role("artists"))} draw a cat` },
      // The bot's own managed role, which Discord's autocomplete sometimes offers for "@seedream".
      { content: `${fake.mention(fake.role("seedream"))} draw a cat` },
      { content: `${fake.mention(fake.bot)} draw a cat`, author: "other-bot" },
      { content: "draw a cat, nobody in particular" },
    ];
    for (const message of ignored) await fake.sendMessageCreate(message);
    // A real mention afterwards is the proof the ones above were passed over, not still pending.
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const real = await fake.sendMessageCreate({ content: h.mentionBot("the real request") });
    const status = await fake.nextMessage();
    await summaryOf(status.messageId);
    await h.discord.idle();
    expect(h.seedream.requests.map((r) => r.body?.prompt)).toEqual(["the real request"]);
    const since = fake.messages.all.filter((m) => m.seq >= status.seq);
    expect(since.map((m) => m.replyTo)).toEqual([real.id, real.id]);
  });
});

describe("replying to the bot's images", () => {
  it("edits the replied image: it comes first, then the reply's own attachment", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await h.fake.sendMessageCreate({ content: h.mentionBot("a tiny house") });
    const status = await h.fake.nextMessage();
    const image = await h.fake.nextMessage();
    await summaryOf(status.messageId);

    const palette = h.fake.hostAttachment({ name: "palette.png", contentType: "image/png", bytes: blue });
    // No typed mention: Discord's default reply ping is what mentions the bot.
    const reply = await h.fake.sendMessageCreate({
      content: "paint it in these colours",
      replyTo: image.messageId,
      attachments: [palette],
    });
    const edit = await h.seedream.request(1);
    expect(edit.body?.prompt).toBe("paint it in these colours");
    expect(referenceBytes(edit.body).map(sha256)).toEqual([sha256(uploadOf(image)), sha256(blue)]);
    const editStatus = await h.fake.nextMessage();
    expect(editStatus.replyTo).toBe(reply.id);
    await summaryOf(editStatus.messageId);
  });

  it("#N in a reply to one image of a group picks image N of that group", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await h.fake.sendMessageCreate({ content: h.mentionBot("two cats --n 2") });
    const status = await h.fake.nextMessage();
    const [one, two] = [await h.fake.nextMessage(), await h.fake.nextMessage()];
    await summaryOf(status.messageId);
    expect([one?.content, two?.content]).toEqual(["1/2", "2/2"]);

    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await h.fake.sendMessageCreate({ content: "#1 at night", replyTo: two?.messageId });
    const edit = await h.seedream.request(1);
    expect(edit.body?.prompt).toBe("at night");
    expect(referenceBytes(edit.body).map(sha256)).toEqual([sha256(await h.seedream.imageBytes(0))]);
    await summaryOf((await h.fake.nextMessage()).messageId);
  });

  it("refreshes an attachment link that expired while the request waited, by fetching the message again", async () => {
    h.seedream.queue({ images: [{ kind: "ok", gate: true }] }, { images: [{ kind: "ok" }] });
    await h.fake.sendMessageCreate({ content: h.mentionBot("first, held at the API") });
    await h.seedream.reached(0);
    const firstStatus = await h.fake.nextMessage();

    const file = h.fake.hostAttachment({ name: "late.png", contentType: "image/png", bytes: red });
    const queued = await h.fake.sendMessageCreate({ content: h.mentionBot("second"), attachments: [file] });
    const waiting = await h.fake.messages.waitFor((m) => m.replyTo === queued.id);
    expect(waiting.content).toMatch(/^Waiting for a free slot/);
    h.fake.expireAttachmentLinks(file.id);
    h.seedream.release(0);

    const second = await h.seedream.request(1);
    expect(referenceBytes(second.body).map(sha256)).toEqual([sha256(red)]);
    const tries = h.fake.cdn.requests.all.filter((r) => r.attachmentId === file.id).map((r) => r.status);
    expect(tries).toEqual([404, 200]);
    await summaryOf(firstStatus.messageId);
    await summaryOf(waiting.messageId);
  });
});
