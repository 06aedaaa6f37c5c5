import { Agent, type Dispatcher, Request, FormData as UndiciFormData } from "undici";
import { describe, expect, it } from "vitest";
import {
  discordRestRequest,
  MultipartBody,
  sniffImageType,
  withMultipartBody,
} from "../../adapters/discord/rest.js";
import { fakeJpeg } from "../fakes/jpeg.js";
import { type DiscordHarness, sha256, uploadOf, useDiscordHarness } from "./harness.js";

/**
 * The multipart body our REST hook builds for an upload (adapters/discord/rest.ts): the same
 * bytes undici's FormData would write, each file's own Buffer as one of its parts (no copy, no
 * Blob, no web stream), sent by Node's own client rather than undici (which kept each sent
 * image reachable, so dead images piled up in the old generation), and still a request
 * discord.js queues and retries. Counted on the objects and at the fake, which parses
 * multipart as Discord does.
 */

let h: DiscordHarness;
useDiscordHarness((started) => {
  h = started;
});

const route = "POST /channels/:channelId/messages";

describe("Discord upload bodies", () => {
  it("writes the bytes undici's FormData writes for the same fields", async () => {
    const image = await fakeJpeg(3, 64, 48);
    const payload = JSON.stringify({ content: 'a "quoted"\nline', attachments: [{ id: "0" }] });
    const ours = new MultipartBody([
      { name: "files[0]", value: image, fileName: 'seedream "1".jpg', contentType: "image/jpeg" },
      { name: "payload_json", value: payload },
    ]);
    const form = new UndiciFormData();
    form.append("files[0]", new File([image], 'seedream "1".jpg', { type: "image/jpeg" }));
    form.append("payload_json", payload);
    const request = new Request("http://127.0.0.1/", { method: "POST", body: form });
    const theirs = Buffer.from(await request.arrayBuffer());
    const theirBoundary = /boundary=(.+)$/.exec(request.headers.get("content-type") ?? "")?.[1] ?? "";

    const written = Buffer.concat(ours.parts);
    expect(written.length).toBe(ours.length);
    expect(written.toString("latin1").replaceAll(ours.boundary, "B")).toBe(
      theirs.toString("latin1").replaceAll(theirBoundary, "B"),
    );
  });

  it("hands discord.js's queue the file's own Buffer as a part, the fields as discord.js names them", () => {
    const image = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9]);
    const sent = withMultipartBody({
      method: "POST" as never,
      fullRoute: "/channels/1/messages",
      body: { content: "1/2" },
      files: [
        { name: "seedream-1.jpg", data: image },
        { name: "x.png", data: png, key: "files[7]" },
      ],
    });
    const body = sent.body as MultipartBody;
    expect(body).toBeInstanceOf(MultipartBody);
    expect(body.parts.filter((part) => part === image || part === png)).toEqual([image, png]);
    expect(sent.files).toBeUndefined();
    expect(sent.passThroughBody).toBe(true);
    expect(sent.headers?.["Content-Type"]).toBe(body.contentType);
    const text = Buffer.concat(body.parts).toString("latin1");
    expect(text).toContain('name="files[0]"; filename="seedream-1.jpg"\r\nContent-Type: image/jpeg');
    expect(text).toContain('name="files[7]"; filename="x.png"\r\nContent-Type: image/png');
    expect(text).toContain('name="payload_json"\r\n\r\n{"content":"1/2"}\r\n');
  });

  it("leaves discord.js's own FormData to requests whose files are not bytes, or that ask for form fields", () => {
    const text = {
      method: "POST" as never,
      fullRoute: "/x" as const,
      files: [{ name: "a.txt", data: "hi" }],
    };
    expect(withMultipartBody(text)).toBe(text);
    const fields = { ...text, files: [{ name: "a.bin", data: Buffer.from("x") }], appendToFormData: true };
    expect(withMultipartBody(fields)).toBe(fields);
  });

  it("knows the image formats by their first bytes", () => {
    expect(sniffImageType(Buffer.from("GIF89a"))).toBe("image/gif");
    expect(sniffImageType(Buffer.from("RIFF\0\0\0\0WEBPVP8 "))).toBe("image/webp");
    expect(sniffImageType(Buffer.from("plain"))).toBeUndefined();
  });

  it("sends an upload past undici's dispatcher (Node's client writes its parts), everything else through it", async () => {
    let dispatched = 0;
    const agent = new (class extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatched += 1;
        return super.dispatch(options, handler);
      }
    })();
    const request = discordRestRequest(agent);
    const image = await fakeJpeg(4, 64, 48);
    const body = new MultipartBody([
      { name: "files[0]", value: image, fileName: "seedream-1.jpg", contentType: "image/jpeg" },
      { name: "payload_json", value: JSON.stringify({ content: "1/1", attachments: [{ id: "0" }] }) },
    ]);
    const url = `${h.fake.apiUrl}/v10/channels/${h.fake.channel().id}/messages`;
    const authorization = `Bot ${h.fake.token}`;
    try {
      const posted = await request(url, {
        method: "POST",
        headers: { Authorization: authorization, "Content-Type": body.contentType },
        body: body as never,
      });
      expect(posted.status).toBe(200);
      const message = (await posted.json()) as { id: string; attachments: { filename: string }[] };
      expect(message.attachments.map((a) => a.filename)).toEqual(["seedream-1.jpg"]);
      expect(dispatched).toBe(0);
      const read = await request(`${url}/${message.id}`, {
        method: "GET",
        headers: { Authorization: authorization },
      });
      expect(read.status).toBe(200);
      expect(dispatched).toBe(1);
    } finally {
      await agent.close();
    }
  });

  it("an upload Discord rate-limits is sent again whole by discord.js's queue, and posted once", async () => {
    const image = await fakeJpeg(11, 320, 240);
    const before = h.fake.requests.all.at(-1)?.seq ?? 0;
    h.seedream.setScenario({ images: [{ kind: "ok", bytes: image, gate: true }] });
    const sent = await h.fake.sendMessageCreate({ content: h.mentionBot("one crane") });
    // The status reply is the first post; its image, held at Seedream until then, the second,
    // refused once with a 429.
    await h.seedream.reached(0);
    await h.fake.messages.waitFor((m) => m.replyTo === sent.id);
    h.fake.failNext(route, { status: 429, retryAfter: 0.05 });
    h.seedream.release(0);
    const posted = await h.fake.messages.waitFor((m) => m.replyTo === sent.id && m.uploads.length === 1);
    await h.discord.idle();

    const uploads = h.fake.requests.all.filter(
      (r) => r.seq > before && r.route === route && r.contentType.startsWith("multipart/"),
    );
    expect(uploads.map((r) => r.status)).toEqual([429, 200]);
    expect(sha256(uploadOf(posted))).toBe(sha256(image));
    expect(h.fake.messages.all.filter((m) => m.replyTo === sent.id && m.uploads.length > 0)).toHaveLength(1);
  });
});
