import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fakeJpeg, sha256 } from "../fakes/jpeg.js";
import { sseDone, sseFrame } from "../fakes/seedream-wire.js";
import { SEEDREAM_KEY, type SlackHarness, startSlackHarness } from "./harness.js";

/**
 * Issue 9, items 2, 4, 5 and 6: an upstream that lies (broken image data, a stream cut short,
 * bogus image_index values, the key echoed back), seen through the real Slack adapter.
 */

let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.seedream.reset());

/** Runs a slash command in its own channel and returns that thread once the summary is in. */
async function run(channel: string, text: string) {
  await h.sender.slashCommand({ text, channelId: channel });
  const [parent] = await h.api.recorder.waitFor("message", 1, (m) => m.channel === channel && !m.threadTs);
  if (!parent) throw new Error("no parent message");
  await h.api.recorder.waitFor("update", 1, { ts: parent.ts, text: /\n(Done|Failed|Cancelled):/ });
  return {
    // The thread without the images' follow-up button messages: the sentences and uploads only.
    thread: h.api.thread(channel, parent.ts).filter((r) => r.kind !== "message" || r.blocks === undefined),
    summary: h.api.message(channel, parent.ts)?.text?.split("\n")[1] ?? "",
    everything: JSON.stringify(h.api.recorder.records.filter((r) => "channel" in r && r.channel === channel)),
  };
}

const succeeded = (index: number, b64: string) =>
  sseFrame({
    type: "image_generation.partial_succeeded",
    model: "m",
    created: 1,
    image_index: index,
    b64_json: b64,
    size: "2048x2048",
  });
const completed = (images: number) =>
  sseFrame({
    type: "image_generation.completed",
    model: "m",
    created: 1,
    usage: { generated_images: images },
  });

describe("issue 9.2: broken image data is never posted", () => {
  it("base64 of an HTML page is that slot's inline failure, not an upload", async () => {
    const html = Buffer.from("<!doctype html><html><body>502 Bad Gateway</body></html>");
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", bytes: html }, { kind: "ok" }] });
    const { thread, summary } = await run("C0CORRUPT1", "three foxes --n 3");
    expect(thread.map((r) => r.kind)).toEqual(["upload", "message", "upload"]);
    expect(thread[1]).toMatchObject({ text: "Image 2/3 came back corrupted, so it was not posted." });
    expect(summary).toMatch(/^Done: 2 of 3 images delivered, 1 failed/);
  });

  it("b64_json that is not base64, and a truncated JPEG, are refused the same way", async () => {
    const jpeg = await fakeJpeg(0);
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2)).toString("base64");
    h.seedream.setScenario({
      raw: {
        chunks: [succeeded(0, "%%% not base64 at all %%%"), succeeded(1, truncated), completed(2), sseDone()],
      },
    });
    const { thread, summary } = await run("C0CORRUPT2", "two owls --n 2");
    expect(thread.map((r) => (r.kind === "message" ? r.text : r.kind))).toEqual([
      "Image 1/2 came back corrupted, so it was not posted.",
      "Image 2/2 came back corrupted, so it was not posted.",
    ]);
    expect(summary).toMatch(/^Done: 0 of 2 images delivered, 2 failed/);
  });
});

describe("issue 9.4: a stream that ends early says so", () => {
  it("closed after image 1 of 3: which images were not generated, and the summary counts them", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }], cutAfter: 1 });
    const { thread, summary } = await run("C0STREAMCUT", "three herons --n 3");
    expect(thread.map((r) => r.kind)).toEqual(["upload", "message"]);
    expect(thread[1]).toMatchObject({
      text: "The connection to Seedream dropped after 1 of 3 images; images 2 and 3 were not generated.",
    });
    expect(summary).toMatch(/^Done: 1 of 3 images delivered, 2 not generated/);
  });
});

describe("issue 9.5: bogus image_index values", () => {
  it("a repeated index is posted once and an index past the request is dropped: labels never exceed the total", async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map((i) => fakeJpeg(i)));
    h.seedream.setScenario({
      raw: {
        chunks: [
          succeeded(0, (a as Buffer).toString("base64")),
          succeeded(0, (b as Buffer).toString("base64")),
          succeeded(7, (c as Buffer).toString("base64")),
          succeeded(1, (b as Buffer).toString("base64")),
          completed(4),
          sseDone(),
        ],
      },
    });
    const { thread, summary } = await run("C0BADINDEX", "two ducks --n 2");
    const uploads = thread.filter((r) => r.kind === "upload");
    expect(uploads.map((u) => u.title)).toEqual(["1/2", "2/2"]);
    expect(uploads.map((u) => sha256(u.bytes))).toEqual([sha256(a as Buffer), sha256(b as Buffer)]);
    expect(summary).toMatch(/^Done: 2 of 2 images delivered \(/);
    expect(h.log.lines.some((line) => line.includes("repeated or out-of-range image_index"))).toBe(true);
  });
});

describe("issue 9.6: upstream strings are scrubbed before a user sees them", () => {
  it("the key echoed in error.param, the error code and the request id header never reaches Slack", async () => {
    h.seedream.queue({ error: { status: 400, code: "InvalidParameter", param: `api_key=${SEEDREAM_KEY}` } });
    const first = await run("C0ECHOPARAM", "a lamp");
    expect(first.everything).not.toContain(SEEDREAM_KEY);
    expect(first.thread.at(-1)).toMatchObject({
      text: expect.stringMatching(/^Seedream rejected the request as invalid \(request id 0217fake\d+\)\.$/),
    });

    const failed = sseFrame({
      type: "image_generation.partial_failed",
      model: "m",
      created: 1,
      image_index: 0,
      error: { code: `Bad key ${SEEDREAM_KEY}`, message: `key ${SEEDREAM_KEY} rejected` },
    });
    h.seedream.queue({
      raw: {
        headers: { "content-type": "text/event-stream", "x-request-id": SEEDREAM_KEY },
        chunks: [failed, completed(0), sseDone()],
      },
    });
    const second = await run("C0ECHOCODE", "a chair");
    expect(second.everything).not.toContain(SEEDREAM_KEY);
    expect(second.thread.at(-1)).toMatchObject({ text: "Image 1/1 could not be generated." });
  });
});
