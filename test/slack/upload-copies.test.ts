import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackThread } from "../../adapters/slack/slack-thread.js";
import { type Fetch, SlackWeb } from "../../adapters/slack/slack-web.js";
import { silentLogger } from "../../src/logger.js";
import { fakeJpeg } from "../fakes/jpeg.js";
import { FakeSlackApi } from "../fakes/slack-api.js";

/**
 * A 4K image is ~5 MB: every copy on its way out is one more image-sized allocation per upload.
 * The bytes the core hands the Slack thread are the very memory fetch sends (a Buffer is a
 * Uint8Array), and the fake receives them intact.
 */

let api: FakeSlackApi;
beforeAll(async () => {
  api = await FakeSlackApi.start();
});
afterAll(async () => {
  await api?.close();
});

describe("Slack image upload", () => {
  it("sends the image's own Buffer to the upload URL, no copy", async () => {
    const bodies: unknown[] = [];
    const recording: Fetch = (input, init) => {
      if (String(input).includes("/upload/v1/")) bodies.push(init?.body);
      return fetch(input, init);
    };
    const web = new SlackWeb({
      token: api.botToken,
      apiUrl: api.apiUrl,
      fetch: recording,
      logger: silentLogger,
      tokenHosts: () => true,
    });
    const thread = new SlackThread(
      { web, logger: silentLogger, statusIntervalMs: 0 },
      { channel: "C0COPIES1", threadTs: "1700000000.000100", userId: "U0COPIES" },
    );
    const bytes = await fakeJpeg(0);
    await thread.postImage({
      key: { runId: "run-1", index: 0 },
      bytes,
      fileName: "seedream-run-1-1.jpg",
      mimeType: "image/jpeg",
      caption: "1/1",
      altText: "an otter",
    });
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toBe(bytes);
    const [upload] = await api.recorder.waitFor("upload", 1, { channel: "C0COPIES1" });
    expect(upload?.bytes.equals(bytes)).toBe(true);
  });
});
