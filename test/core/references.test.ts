import { beforeEach, describe, expect, it } from "vitest";
import { ReferenceImageError } from "../../src/core/errors.js";
import type { Attachment, IncomingRequest, StoredImageRef } from "../../src/core/ports.js";
import { selectReferenceSources } from "../../src/core/references.js";
import { type BotStore, type ImageRecord, openStore } from "../../src/core/store.js";

const file = (name: string, contentType?: string): Attachment => ({
  name,
  ...(contentType === undefined ? {} : { contentType }),
  fetch: async () => {
    throw new Error("selection must not download anything");
  },
});

/** Stored images come back as attachments named after the message they were posted in. */
const resolveStoredImage = (image: StoredImageRef): Attachment =>
  file(`stored:${image.messageId}:${image.ref}`);

function request(extra: Partial<IncomingRequest> = {}): IncomingRequest {
  return {
    platform: "discord",
    conversationId: "channel-1",
    user: { id: "u1", displayName: "Ada" },
    text: "make it blue",
    attachments: [],
    ...extra,
  };
}

let store: BotStore;

/** A group of 4 where image 3/4 was blocked; images were posted in the order 2, 1, 4. */
async function recordGroup(runId = "run-1", conversationId = "channel-1"): Promise<void> {
  const params = { n: 4, watermark: false };
  await store.recordRun({
    runId,
    platform: "discord",
    conversationId,
    userId: "u1",
    prompt: "cats",
    params,
    createdAt: 1,
  });
  for (const [messageId, index] of [
    [`${runId}-m2`, 1],
    [`${runId}-m1`, 0],
    [`${runId}-m4`, 3],
  ] as const) {
    const record: ImageRecord = {
      platform: "discord",
      conversationId,
      messageId,
      ref: `ref-${messageId}`,
      fileName: `seedream-${index + 1}.jpg`,
      mimeType: "image/jpeg",
      runId,
      index,
      prompt: "cats",
      params,
      postedAt: 10 + index,
    };
    await store.recordImage(record);
  }
}

const names = (attachments: Attachment[]) => attachments.map((attachment) => attachment.name);

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ReferenceImageError);
  return (error as ReferenceImageError).userMessage;
}

describe("reference sources", () => {
  beforeEach(async () => {
    store = await openStore("memory://", { ttlMs: 60_000 });
  });

  it("uses the message's own attachments in order", async () => {
    const sources = await selectReferenceSources(
      request({ attachments: [file("a.png"), file("b.png")] }),
      [],
      store,
    );
    expect(names(sources)).toEqual(["a.png", "b.png"]);
  });

  it("puts the replied-to message's images first, skipping its non-images", async () => {
    const replyTo = {
      messageId: "user-msg",
      fromBot: false,
      attachments: [file("r1.jpg", "image/jpeg"), file("notes.pdf", "application/pdf"), file("r2")],
    };
    const sources = await selectReferenceSources(
      request({ replyTo, attachments: [file("own.png")] }),
      [],
      store,
    );
    expect(names(sources)).toEqual(["r1.jpg", "r2", "own.png"]);
  });

  it("#N of an ordinary message picks its Nth image", async () => {
    const replyTo = { messageId: "user-msg", fromBot: false, attachments: [file("r1.jpg"), file("r2.jpg")] };
    expect(names(await selectReferenceSources(request({ replyTo }), [2], store))).toEqual(["r2.jpg"]);
    expect(await refusal(selectReferenceSources(request({ replyTo }), [3], store))).toBe(
      "There is no image #3: that message has 2 images.",
    );
  });

  it("a reply to one of the bot's images edits that image", async () => {
    await recordGroup();
    const replyTo = { messageId: "run-1-m2", fromBot: true, attachments: [file("fresh-cdn-link.jpg")] };
    const sources = await selectReferenceSources(
      request({ replyTo, resolveStoredImage, attachments: [file("own.png")] }),
      [],
      store,
    );
    expect(names(sources)).toEqual(["fresh-cdn-link.jpg", "own.png"]);
  });

  it("#N in a reply to a group picks image N by its label, not by posting order", async () => {
    await recordGroup();
    const replyTo = { messageId: "run-1-m2", fromBot: true, attachments: [file("m2.jpg")] };
    const sources = await selectReferenceSources(
      request({ replyTo, resolveStoredImage, attachments: [file("own.png")] }),
      [4, 1],
      store,
    );
    expect(names(sources)).toEqual([
      "stored:run-1-m4:ref-run-1-m4",
      "stored:run-1-m1:ref-run-1-m1",
      "own.png",
    ]);
  });

  it("explains a pick that was never delivered or does not exist", async () => {
    await recordGroup();
    const replyTo = { messageId: "run-1-m1", fromBot: true, attachments: [] };
    expect(await refusal(selectReferenceSources(request({ replyTo, resolveStoredImage }), [3], store))).toBe(
      "Image #3 of that group was not delivered, so it can't be edited.",
    );
    expect(await refusal(selectReferenceSources(request({ replyTo, resolveStoredImage }), [7], store))).toBe(
      "There is no image #7: that message has 4 images.",
    );
  });

  it("a follow-up in a thread edits the thread's latest image, or #N of its latest group", async () => {
    await recordGroup("run-old");
    await recordGroup("run-new");
    const followUp = request({ continuesThread: true, resolveStoredImage, attachments: [file("own.png")] });
    expect(names(await selectReferenceSources(followUp, [], store))).toEqual([
      "stored:run-new-m4:ref-run-new-m4",
      "own.png",
    ]);
    expect(names(await selectReferenceSources(followUp, [2], store))).toEqual([
      "stored:run-new-m2:ref-run-new-m2",
      "own.png",
    ]);
  });

  it("a follow-up in a thread without earlier images uses only its attachments", async () => {
    const followUp = request({ continuesThread: true, resolveStoredImage, attachments: [file("own.png")] });
    expect(names(await selectReferenceSources(followUp, [], store))).toEqual(["own.png"]);
    expect(await refusal(selectReferenceSources(followUp, [2], store))).toBe(
      "There is no earlier image in this thread to pick #2 from.",
    );
  });

  it("a plain message in a channel never picks up earlier images", async () => {
    await recordGroup();
    const plain = request({ resolveStoredImage, attachments: [file("own.png")] });
    expect(names(await selectReferenceSources(plain, [], store))).toEqual(["own.png"]);
  });
});
