import { afterEach, describe, expect, it } from "vitest";
import { fakeJpeg } from "../fakes/jpeg.js";
import { type DiscordHarness, sha256, uploadOf, useDiscordHarness } from "./harness.js";

/**
 * Copies of an image's bytes on their way to Discord (issue 15, goal 3), counted in this process
 * while a real run posts through real discord.js to the fake. A copy is a Blob or File built
 * from bytes (Node copies them in), a Blob read back (`arrayBuffer`, `stream`, `bytes`, `text`:
 * each allocates its bytes again) or a whole body read back into memory. Our REST hook hands
 * discord.js's queue a multipart body made of the decoded Buffer itself (adapters/discord/rest.ts
 * `leanUploads`), so there is none: no Blob at all, and the same Buffer object is written to the
 * socket. Every copy is external memory V8 counts towards its next full GC.
 */

let h: DiscordHarness;
useDiscordHarness((started) => {
  h = started;
});

const OriginalBlob = globalThis.Blob;
const OriginalFile = globalThis.File;
const originalArrayBuffer = Object.getOwnPropertyDescriptor(Response.prototype, "arrayBuffer");
const restore: (() => void)[] = [];
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
  globalThis.Blob = OriginalBlob;
  globalThis.File = OriginalFile;
  if (originalArrayBuffer) Object.defineProperty(Response.prototype, "arrayBuffer", originalArrayBuffer);
});

const fromTheFake = () => new Error().stack?.includes("/test/fakes/") ?? false;
const fromBytes = (parts: readonly unknown[] | undefined) =>
  (parts ?? []).some((part) => ArrayBuffer.isView(part) || part instanceof ArrayBuffer);

describe("Discord image upload copies", () => {
  it("copies an image's bytes nowhere between the decoded Buffer and the socket: no Blob, no read-back", async () => {
    const image = await fakeJpeg(7, 640, 480);
    const copies: string[] = [];
    globalThis.Blob = class CountingBlob extends OriginalBlob {
      constructor(...args: ConstructorParameters<typeof Blob>) {
        super(...args);
        const [parts] = args;
        if (this.size === image.length && fromBytes(parts)) copies.push("Blob from bytes");
      }
    } as typeof Blob;
    globalThis.File = class CountingFile extends OriginalFile {
      constructor(...args: ConstructorParameters<typeof File>) {
        super(...args);
        const [parts] = args;
        if (this.size === image.length && fromBytes(parts)) copies.push("File from bytes");
      }
    } as typeof File;
    // An image-sized Blob read back (or cut to pieces to be read): how undici's FormData body
    // reads each file. The fake, in this process too, reads the body it received: not ours.
    for (const method of ["arrayBuffer", "stream", "bytes", "text", "slice"] as const) {
      const original = Object.getOwnPropertyDescriptor(OriginalBlob.prototype, method);
      if (!original) continue;
      const call = original.value as (this: Blob, ...args: unknown[]) => unknown;
      Object.defineProperty(OriginalBlob.prototype, method, {
        ...original,
        value: function (this: Blob, ...args: unknown[]) {
          if (this.size >= image.length && !fromTheFake()) copies.push(`Blob.${method}`);
          return call.apply(this, args);
        },
      });
      restore.push(() => Object.defineProperty(OriginalBlob.prototype, method, original));
    }
    // The copy this once made: the whole multipart body read into one buffer.
    const read = originalArrayBuffer?.value as (this: Response) => Promise<ArrayBuffer>;
    Object.defineProperty(Response.prototype, "arrayBuffer", {
      ...originalArrayBuffer,
      value: async function (this: Response) {
        const body = await read.call(this);
        if (body.byteLength >= image.length) copies.push("body read into a buffer");
        return body;
      },
    });

    h.seedream.setScenario({ images: [{ kind: "ok", bytes: image }] });
    const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("one heron") });
    const posted = await h.fake.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
    await h.discord.idle();

    expect(copies).toEqual([]);
    expect(sha256(uploadOf(posted))).toBe(sha256(image));
  });
});
