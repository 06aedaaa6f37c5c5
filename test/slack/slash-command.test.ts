import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../fakes/jpeg.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

let h: SlackHarness;
/** Rate-limit waits the adapter asked for (Retry-After), recorded instead of slept. */
const slackWaits: number[] = [];

beforeAll(async () => {
  h = await startSlackHarness({}, { sleep: async (ms) => void slackWaits.push(ms) });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.seedream.reset());

/** The bot's parent message for a slash command in `channel` (the first top-level message there). */
async function parentIn(channel: string) {
  const [parent] = await h.api.recorder.waitFor("message", 1, (m) => m.channel === channel && !m.threadTs);
  if (!parent) throw new Error("no parent message");
  return parent;
}

/** A thread record's kind, telling the images' buttons messages apart from the bot's sentences. */
const kindOf = (r: { kind: string; blocks?: unknown[] }): string =>
  r.kind === "message" && r.blocks !== undefined ? "buttons" : r.kind;

describe("slash command", () => {
  it("acks before any image, posts a parent, then streams each upload into its thread", async () => {
    const channel = "C0STREAM01";
    h.seedream.setScenario({
      images: [{ kind: "ok", gate: true }, { kind: "ok", gate: true }, { kind: "ok" }],
    });
    const ack = await h.sender.slashCommand({ text: "a red fox in the snow --n 3", channelId: channel });
    // The HTTP answer is back while the fake still holds image 0: acking never waits for Seedream.
    expect(ack.status).toBe(200);
    expect(h.seedream.wasSent(0)).toBe(false);

    const parent = await parentIn(channel);
    expect(parent.text).toBe(`<@${h.api.userId}> asked: a red fox in the snow --n 3`);
    expect((await h.seedream.request(0)).body).toMatchObject({
      prompt: "a red fox in the snow",
      sequential_image_generation_options: { max_images: 3 },
    });

    h.seedream.release(0);
    const [first] = await h.api.recorder.waitFor("upload", 1, { channel, threadTs: parent.ts });
    // Image 1 is in Slack while the fake has not sent image 2 yet.
    expect(h.seedream.wasSent(1)).toBe(false);
    expect(first?.title).toBe("1/3");
    h.seedream.release(1);

    const uploads = await h.api.recorder.waitFor("upload", 3, { channel, threadTs: parent.ts });
    const expected = await Promise.all([0, 1, 2].map((i) => h.seedream.imageBytes(i)));
    expect(uploads.map((u) => sha256(u.bytes))).toEqual(expected.map(sha256));
    expect(uploads.map((u) => u.title)).toEqual(["1/3", "2/3", "3/3"]);
    expect(uploads.every((u) => u.altText === "a red fox in the snow" && u.altTextField === "alt_txt")).toBe(
      true,
    );

    await h.api.recorder.waitFor("update", 1, { ts: parent.ts, text: /^Done: 3 of 3 images delivered/m });
    expect(h.api.message(channel, parent.ts)?.text).toMatch(
      new RegExp(`^<@${h.api.userId}> asked: a red fox in the snow --n 3\\nDone: 3 of 3 images delivered`),
    );
    // Each image is followed at once by its "N/3" message with the follow-up buttons.
    expect(h.api.thread(channel, parent.ts).map(kindOf)).toEqual([
      "upload",
      "buttons",
      "upload",
      "buttons",
      "upload",
      "buttons",
    ]);
    // Throttled (one edit a minute in this harness): the first status, then the summary at the end.
    const edits = h.api.recorder.of("update").filter((u) => u.ts === parent.ts);
    expect(edits.map((u) => u.text?.split("\n")[1])).toEqual([
      "Generating 3 images with Seedream 4.5…",
      expect.stringMatching(/^Done: 3 of 3 images delivered/),
    ]);
  });

  it("posts a moderation block of image 2 of 3 inline, goes on, and summarises in the parent", async () => {
    const channel = "C0MODERAT1";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "moderation" }, { kind: "ok" }] });
    await h.sender.slashCommand({ text: "three cats --n 3", channelId: channel });
    const parent = await parentIn(channel);
    await h.api.recorder.waitFor("update", 1, { ts: parent.ts, text: /Done: 2 of 3 images delivered/ });

    const thread = h.api.thread(channel, parent.ts);
    expect(thread.map(kindOf)).toEqual(["upload", "buttons", "message", "upload", "buttons"]);
    expect(thread[2]).toMatchObject({ text: "Image 2/3 was blocked by Seedream's content filter." });
    expect(h.api.message(channel, parent.ts)?.text).toMatch(/1 blocked by the content filter/);
  });

  it("waits out a Slack rate limit (Retry-After) on an upload, then uploads", async () => {
    const channel = "C0RATELIM1";
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    h.api.failNext("files.getUploadURLExternal", { error: "ratelimited", retryAfter: 7 });
    await h.sender.slashCommand({ text: "a windmill", channelId: channel });
    const parent = await parentIn(channel);
    const [upload] = await h.api.recorder.waitFor("upload", 1, { channel, threadTs: parent.ts });
    expect(sha256(upload?.bytes ?? Buffer.alloc(0))).toBe(sha256(await h.seedream.imageBytes(0)));
    expect(slackWaits).toEqual([7000]);
    await h.api.recorder.waitFor("update", 1, { ts: parent.ts, text: /Done: image delivered/ });
  });

  it("echoes <!channel>, <!here> and user mentions in a prompt escaped, so they never ping", async () => {
    const channel = "C0ESCAPE01";
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await h.sender.slashCommand({ text: "<!channel> <!here> <@U0SOMEONE> & a cat", channelId: channel });
    const parent = await parentIn(channel);
    expect(parent.text).toBe(
      `<@${h.api.userId}> asked: &lt;!channel&gt; &lt;!here&gt; &lt;@U0SOMEONE&gt; &amp; a cat`,
    );
    // Slack delivers what a user typed entity-encoded; the echo is the same either way.
    await h.sender.slashCommand({ text: "&lt;!channel&gt; a dog", channelId: "C0ESCAPE02" });
    expect((await parentIn("C0ESCAPE02")).text).toBe(`<@${h.api.userId}> asked: &lt;!channel&gt; a dog`);
    expect((await h.seedream.request(0)).body?.prompt).toBe("<!channel> <!here> <@U0SOMEONE> & a cat");
    await h.api.recorder.waitFor(
      "update",
      2,
      (u) => u.channel.startsWith("C0ESCAPE") && /Done/.test(u.text ?? ""),
    );
  });

  it("answers help privately through response_url without a parent message", async () => {
    const channel = "C0HELP0001";
    const ack = await h.sender.slashCommand({ text: "help", channelId: channel });
    expect(ack.status).toBe(200);
    const [reply] = await h.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
    expect(reply?.responseType).toBe("ephemeral");
    expect(reply?.text).toContain("Usage: &lt;prompt&gt; [--n 1-15]");
    expect(h.api.recorder.of("message").filter((m) => m.channel === channel)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
  });

  it("answers a bad flag privately with the reason, and starts nothing", async () => {
    const channel = "C0BADFLAG1";
    const ack = await h.sender.slashCommand({ text: "a cat --n 99", channelId: channel });
    const [reply] = await h.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
    expect(reply?.text).toMatch(/--n/);
    expect(reply?.text).toMatch(/Usage:/);
    expect(h.api.recorder.of("message").filter((m) => m.channel === channel)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
  });

  it("answers a mistake only the model reveals (--seed on 4.5) privately, before any parent message", async () => {
    const channel = "C0LATESEED";
    const ack = await h.sender.slashCommand({ text: "a lighthouse --seed 5", channelId: channel });
    const [reply] = await h.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
    expect(reply?.responseType).toBe("ephemeral");
    expect(reply?.text).toBe("Seedream 4.5 does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.");
    await h.runtime.handler.idle("slack");
    expect(h.api.recorder.of("message").filter((m) => m.channel === channel)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
  });

  it("refuses a prompt over MAX_PROMPT_CHARS privately, saying the limit, and starts nothing", async () => {
    const channel = "C0LONGPRM1";
    const prompt = "a fox in the snow ".repeat(134).trim(); // 2,411 characters
    const ack = await h.sender.slashCommand({ text: prompt, channelId: channel });
    const [reply] = await h.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
    expect(reply?.responseType).toBe("ephemeral");
    expect(reply?.text).toContain("Your prompt is 2,411 characters long; the limit here is 2,000.");
    expect(h.api.recorder.of("message").filter((m) => m.channel === channel)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
  });

  it("tells the user how to add the bot when it is not in the channel", async () => {
    const channel = "C0NOTINCH1";
    h.api.setChannel(channel, { isMember: false });
    const ack = await h.sender.slashCommand({ text: "a lighthouse", channelId: channel });
    const [reply] = await h.api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
    expect(reply?.responseType).toBe("ephemeral");
    expect(reply?.text).toContain(`/invite <@${h.api.botUserId}>`);
    expect(h.seedream.requests).toEqual([]);
  });

  it("refuses a bad signature with 401 and runs nothing", async () => {
    const before = h.api.calls.length;
    const bad = await h.sender.slashCommand(
      { text: "a cat", channelId: "C0BADSIG01" },
      { badSignature: true },
    );
    const message = h.sender.userMessage({ text: h.mentionBot("a cat"), channel: "C0BADSIG01" });
    const badEvent = await h.sender.deliver(message, "app_mention", { badSignature: true });
    expect([bad.status, badEvent.status]).toEqual([401, 401]);
    expect(h.api.calls.length).toBe(before);
    expect(h.api.recorder.of("response_url").filter((r) => r.url === bad.responseUrl)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
  });

  it("answers a command it isn't configured for instead of letting it time out", async () => {
    const ack = await h.sender.slashCommand({ text: "a cat", command: "/paint", channelId: "C0OTHERCMD" });
    expect(ack.status).toBe(200);
    expect(JSON.parse(ack.body)).toMatchObject({
      response_type: "ephemeral",
      text: "This bot answers /seedream. To use /paint instead, set SLACK_COMMAND=/paint and restart it.",
    });
    expect(h.seedream.requests).toEqual([]);
  });

  it("serves GET /healthz on the same port", async () => {
    const response = await fetch(`${h.appUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      platforms: { slack: true },
      store: true,
      notReady: [],
    });
  });
});

describe("Seedream API errors", () => {
  it.each([
    [401, "AuthenticationError", /Seedream rejected the bot's API key/],
    [429, "RateLimitExceeded", /Seedream is busy right now/],
  ])("HTTP %i → one clear thread message; the next command still works", async (status, code, sentence) => {
    const channel = `C0ERR${status}000`;
    h.seedream.queue({ error: { status, code, retryAfter: status === 429 ? "1" : undefined } });
    await h.sender.slashCommand({ text: "a bridge at dusk", channelId: channel });
    const parent = await parentIn(channel);
    const [message] = await h.api.recorder.waitFor("message", 1, { channel, threadTs: parent.ts });
    expect(message?.text).toMatch(sentence);
    expect(message?.text).not.toContain(h.runtime.config.seedream.apiKey ?? "-");

    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    await h.sender.slashCommand({ text: "a bridge at dawn", channelId: `${channel}2` });
    const second = await parentIn(`${channel}2`);
    const [upload] = await h.api.recorder.waitFor("upload", 1, { threadTs: second.ts });
    expect(sha256(upload?.bytes ?? Buffer.alloc(0))).toBe(sha256(await h.seedream.imageBytes(0)));
  });
});
