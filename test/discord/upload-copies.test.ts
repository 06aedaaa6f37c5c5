import { afterEach, describe, expect, it } from "vitest";
import { fakeJpeg } from "../fakes/jpeg.js";
import { type DiscordHarness, sha256, uploadOf, useDiscordHarness } from "./harness.js";

/**
 * Copies of an image's bytes on their way to Discord (issue 15, goal 3), counted in this process
 * while a real run posts through real discord.js to the fake. A copy is a Blob or File built
 * from bytes (Node copies them in) or a whole body read back into memory; a Blob or File built
 * from another Blob shares its data and is no copy. discord.js's REST layer wraps the decoded
 * Buffer in one Blob (`new Blob([data])`: that copy is discord.js's, and the only one); our
 * request function moves it into undici's multipart body (undici may wrap it in a File, which
 * shares it) and undici streams it into the socket. Copies inside undici's streaming (64 KiB
 * pieces) are not image-sized and not counted.
 */

let h: DiscordHarness;
useDiscordHarness((started) => {
  h = started;
});

const OriginalBlob = globalThis.Blob;
const OriginalFile = globalThis.File;
const originalArrayBuffer = Object.getOwnPropertyDescriptor(Response.prototype, "arrayBuffer");
afterEach(() => {
  globalThis.Blob = OriginalBlob;
  globalThis.File = OriginalFile;
  if (originalArrayBuffer) Object.defineProperty(Response.prototype, "arrayBuffer", originalArrayBuffer);
});

const fromBytes = (parts: readonly unknown[] | undefined) =>
  (parts ?? []).some((part) => ArrayBuffer.isView(part) || part instanceof ArrayBuffer);

describe("Discord image upload copies", () => {
  it("copies an image's bytes once (discord.js's Blob) between the decoded Buffer and the socket", async () => {
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

    expect(copies).toEqual(["Blob from bytes"]);
    expect(sha256(uploadOf(posted))).toBe(sha256(image));
  });
});
