import { describe, expect, it } from "vitest";
import type { FileDescriptor } from "../../src/core/ports.js";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { looksSame, referencesOf } from "../helpers/thumbnail.js";
import { bytesAttachment, solidImage } from "./attachments.js";
import { type Harness, incoming, threadWithRefetch, useHarness } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/** Again, Vary, Edit… and Cancel as core verbs: what Seedream is asked for, and who may stop what. */

let fake: FakeSeedream;
let harness: Harness;

useHarness((started, wired) => {
  fake = started;
  harness = wired;
});

/** A run of `text` with one user file (recorded with a descriptor), in a thread that can refetch its images. */
async function firstRun(text: string) {
  const photo = await solidImage(320, 200, "png");
  const descriptor: FileDescriptor = {
    kind: "file",
    platform: "test",
    name: "photo.png",
    locator: { id: "P1" },
  };
  const opened: FileDescriptor[] = [];
  const { thread, resolveStoredImage } = threadWithRefetch();
  const resolveFile = (d: FileDescriptor) => {
    opened.push(d);
    return bytesAttachment(d.name, photo);
  };
  const attachment = Object.assign(bytesAttachment("photo.png", photo), { descriptor });
  const request = incoming(text, { attachments: [attachment], resolveStoredImage, resolveFile });
  const result = await harness.handler.submit(request, thread);
  expect(result.outcome).toBe("completed");
  return { runId: result.runId as string, thread, photo, resolveStoredImage, resolveFile, opened };
}

describe("follow-up verbs", () => {
  it("Again: the same prompt, parameters and references, as a new run of whoever pressed", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const first = await firstRun("a red fox --n 2 --size 2K --no-watermark");
    const presser = incoming("", {
      followUp: { verb: "again", image: { runId: first.runId, index: 1 } },
      resolveStoredImage: first.resolveStoredImage,
      resolveFile: first.resolveFile,
    });
    const again = new RecordingThread();
    const result = await harness.handler.submit(presser, again);
    expect(result.outcome).toBe("completed");
    expect(result.runId).not.toBe(first.runId);
    const [original, repeat] = [fake.requests[0], fake.requests[1]];
    expect(repeat?.body).toMatchObject({
      prompt: "a red fox",
      sequential_image_generation_options: { max_images: 2 },
      size: "2K",
      watermark: false,
    });
    expect(referencesOf(repeat)).toEqual(referencesOf(original));
    expect(first.opened).toEqual([
      { kind: "file", platform: "test", name: "photo.png", locator: { id: "P1" } },
    ]);
    expect(again.images).toHaveLength(2);
    expect((await harness.store.getRun(result.runId as string))?.userId).toBe(presser.user.id);
  });

  it("Vary: the pressed image as the only reference, the original prompt and n", async () => {
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }] });
    const first = await firstRun("a lighthouse --n 3");
    const pressed = first.thread.images.find((image) => image.caption === "2/3");
    const vary = new RecordingThread();
    await harness.handler.submit(
      incoming("", {
        followUp: { verb: "vary", image: { runId: first.runId, index: 1 } },
        resolveStoredImage: first.resolveStoredImage,
      }),
      vary,
    );
    const request = fake.requests[1];
    expect(request?.body).toMatchObject({
      prompt: "a lighthouse",
      sequential_image_generation_options: { max_images: 3 },
    });
    const references = referencesOf(request);
    expect(references).toHaveLength(1);
    expect(await looksSame(references[0] ?? "", pressed?.bytes ?? Buffer.alloc(0))).toBe(true);
    expect(await looksSame(references[0] ?? "", first.photo)).toBe(false);
  });

  it("Edit…: the typed text (flags too) on the pressed image, then the run's references when kept", async () => {
    const first = await firstRun("a cabin");
    const pressed = first.thread.images[0];
    for (const keepReferences of [false, true]) {
      fake.reset();
      await harness.handler.submit(
        incoming("make it winter --ar 16:9", {
          followUp: { verb: "edit", image: { runId: first.runId, index: 0 }, keepReferences },
          resolveStoredImage: first.resolveStoredImage,
          resolveFile: first.resolveFile,
        }),
        new RecordingThread(),
      );
      const request = fake.requests[0];
      expect(request?.body).toMatchObject({ prompt: "make it winter", size: "2560x1440" });
      const references = referencesOf(request);
      expect(references).toHaveLength(keepReferences ? 2 : 1);
      expect(await looksSame(references[0] ?? "", pressed?.bytes ?? Buffer.alloc(0))).toBe(true);
      if (keepReferences) expect(await looksSame(references[1] ?? "", first.photo)).toBe(true);
    }
  });

  it("answers privately, running nothing, for an image the store no longer has and an empty edit", async () => {
    const { resolveStoredImage } = threadWithRefetch();
    const thread = new RecordingThread({ ephemeral: true });
    const result = await harness.handler.submit(
      incoming("", { followUp: { verb: "again", image: { runId: "gone", index: 0 } }, resolveStoredImage }),
      thread,
    );
    expect(result.outcome).toBe("rejected");
    expect(thread.ephemerals).toEqual([
      "This image is too old to reuse; reply to it with the image attached.",
    ]);

    const first = await firstRun("a boat");
    fake.reset();
    const empty = new RecordingThread({ ephemeral: true });
    await harness.handler.submit(
      incoming("help", {
        followUp: { verb: "edit", image: { runId: first.runId, index: 0 } },
        resolveStoredImage: first.resolveStoredImage,
      }),
      empty,
    );
    expect(empty.ephemerals[0]).toContain("Describe how the image should change");
    expect(fake.requests).toHaveLength(0);
  });

  it("Again says so when a reference the platform gave no way back to is part of the run", async () => {
    const photo = await solidImage(64, 64, "png");
    const { thread, resolveStoredImage } = threadWithRefetch();
    const first = await harness.handler.submit(
      incoming("a kite", { attachments: [bytesAttachment("option.png", photo)], resolveStoredImage }),
      thread,
    );
    fake.reset();
    const again = new RecordingThread({ ephemeral: true });
    await harness.handler.submit(
      incoming("", {
        followUp: { verb: "again", image: { runId: first.runId as string, index: 0 } },
        resolveStoredImage,
        resolveFile: () => bytesAttachment("never", photo),
      }),
      again,
    );
    expect(again.ephemerals[0]).toContain("can no longer be fetched");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("cancelRun", () => {
  it("stops the requester's run (closing the Seedream stream), refuses a stranger, lets an admin", async () => {
    for (const who of ["requester", "admin"] as const) {
      fake.reset();
      fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
      const thread = new RecordingThread();
      const owners: (string | undefined)[] = [];
      Object.assign(thread, { cancellable: (runId: string | undefined) => owners.push(runId) });
      const request = incoming("two birds --n 2");
      const running = harness.handler.submit(request, thread);
      await fake.reached(1);
      const runId = owners[0] as string;
      expect(runId).toBeTruthy();
      const stranger = await harness.handler.cancelRun("test", runId, {
        userId: "U-stranger",
        isAdmin: async () => false,
      });
      expect(stranger).toEqual({ kind: "refused", requesterId: request.user.id });
      const by =
        who === "requester" ? { userId: request.user.id } : { userId: "U-admin", isAdmin: async () => true };
      expect(await harness.handler.cancelRun("test", runId, by)).toEqual({ kind: "cancelled" });
      expect((await running).outcome).toBe("cancelled");
      expect(await fake.closed(0)).toBe("aborted");
      expect(owners).toEqual([runId, undefined]);
      expect(await harness.handler.cancelRun("test", runId, { userId: request.user.id })).toEqual({
        kind: "over",
      });
    }
  });
});
