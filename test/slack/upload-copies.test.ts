import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postBytes } from "../../adapters/shared/post-bytes.js";
import { SlackThread } from "../../adapters/slack/slack-thread.js";
import { SlackWeb } from "../../adapters/slack/slack-web.js";
import { silentLogger } from "../../src/logger.js";
import { fakeJpeg } from "../fakes/jpeg.js";
import { FakeSlackApi } from "../fakes/slack-api.js";

/**
 * A 4K image is ~5 MB: every copy on its way out is one more image-sized allocation per upload.
 * `fetch` copies any BufferSource body before sending it (the Fetch standard says so, and undici
 * does), so the upload step's POST goes through Node's own client, which writes the Buffer the
 * core handed the Slack thread to the socket as it is.
 */

let api: FakeSlackApi;
beforeAll(async () => {
  api = await FakeSlackApi.start();
});
afterAll(async () => {
  await api?.close();
});

function threadWith(web: SlackWeb, channel: string): SlackThread {
  return new SlackThread(
    { web, logger: silentLogger, statusIntervalMs: 0 },
    { channel, threadTs: "1700000000.000100", userId: "U0COPIES" },
  );
}

const image = (bytes: Buffer) => ({
  key: { runId: "run-1", index: 0 },
  bytes,
  fileName: "seedream-run-1-1.jpg",
  mimeType: "image/jpeg",
  caption: "1/1",
  altText: "an otter",
});

describe("Slack image upload", () => {
  it("hands the image's own Buffer to the upload POST, and Slack receives it intact", async () => {
    const bodies: Uint8Array[] = [];
    const web = new SlackWeb({
      token: api.botToken,
      apiUrl: api.apiUrl,
      fetch,
      postBytes: (url, bytes, init) => {
        bodies.push(bytes);
        return postBytes(url, bytes, init);
      },
      logger: silentLogger,
      tokenHosts: () => true,
    });
    const bytes = await fakeJpeg(0);
    await threadWith(web, "C0COPIES1").postImage(image(bytes));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toBe(bytes);
    const [upload] = await api.recorder.waitFor("upload", 1, { channel: "C0COPIES1" });
    expect(upload?.bytes.equals(bytes)).toBe(true);
  });

  it("sends the bytes without copying them first (fetch would allocate the image's size again)", async () => {
    // 24 MB: far above anything else allocated meanwhile. Measured as the POST is handed over,
    // before any I/O, which is when fetch makes its copy.
    const bytes = Buffer.alloc(24 * 1024 * 1024, 7);
    const url = new URL(`${api.apiUrl.replace(/\/api\/$/, "")}/upload/v1/copies-check`);
    const before = process.memoryUsage().arrayBuffers;
    const sent = postBytes(url, bytes, { headers: {}, signal: AbortSignal.timeout(30_000) });
    const grown = process.memoryUsage().arrayBuffers - before;
    await sent.catch(() => undefined);
    expect(grown).toBeLessThan(1024 * 1024);
  });
});
