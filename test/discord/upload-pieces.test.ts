import { Request } from "undici";
import { describe, expect, it } from "vitest";
import { FILE_PIECE_BYTES, sameRealm } from "../../adapters/discord/rest.js";

/**
 * How our request function hands discord.js's multipart body to undici (issue 15, goals 3 and 4):
 * each file is read in slices, so undici never holds a second copy of a whole image (Node 20
 * reads a Blob built from one Buffer back as a single chunk of its full size). Counted on the
 * body undici would write to the socket; the end-to-end Discord tests check the bytes arrive.
 */
describe("Discord multipart bodies", () => {
  it("sends each file's exact bytes in pieces of at most 64 KiB, with the other fields as they were", async () => {
    const image = Buffer.alloc(3 * FILE_PIECE_BYTES + 1234);
    for (let i = 0; i < image.length; i++) image[i] = (i * 7 + (i >> 9)) & 255;
    const second = Buffer.from("a small second file");
    // As @discordjs/rest builds it: the global FormData, each file a Blob made from its Buffer.
    const form = new FormData();
    form.append("payload_json", JSON.stringify({ content: "1/2 a heron" }));
    form.append("files[0]", new Blob([image], { type: "image/jpeg" }), "seedream-1.jpg");
    form.append("files[1]", new Blob([second], { type: "image/png" }), "seedream-2.png");

    const own = sameRealm(form);
    const request = new Request("http://127.0.0.1/", { method: "POST", body: own });
    const chunks: Buffer[] = [];
    for await (const chunk of request.body ?? []) chunks.push(Buffer.from(chunk));
    const body = Buffer.concat(chunks);

    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(FILE_PIECE_BYTES);
    expect(body.indexOf(image)).toBeGreaterThan(0);
    expect(body.indexOf(second)).toBeGreaterThan(body.indexOf(image));
    const file = own.get("files[0]") as File;
    expect([file.name, file.type, file.size]).toEqual(["seedream-1.jpg", "image/jpeg", image.length]);
    expect(Buffer.from(await file.arrayBuffer()).equals(image)).toBe(true);
    expect(own.get("payload_json")).toBe(JSON.stringify({ content: "1/2 a heron" }));
    expect(body.toString("latin1")).toContain('filename="seedream-2.png"\r\nContent-Type: image/png');
  });
});
