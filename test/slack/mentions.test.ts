import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../fakes/jpeg.js";
import { dataUriBytes } from "../helpers/data-uri.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

let h: SlackHarness;
let red: Buffer;
let blue: Buffer;

beforeAll(async () => {
  h = await startSlackHarness();
  const png = (background: string) =>
    sharp({ create: { width: 80, height: 60, channels: 3, background } })
      .png()
      .toBuffer();
  [red, blue] = await Promise.all([png("#d02030"), png("#2040d0")]);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.seedream.reset());

const references = (body: Record<string, unknown> | undefined): Buffer[] =>
  ([] as unknown[]).concat(body?.image ?? []).map(dataUriBytes);

/** Resolves when the run answering in `threadTs` has put its summary into its status message. */
const summaryIn = (channel: string, threadTs: string) =>
  h.api.recorder.waitFor("update", 1, (u) => {
    const status = h.api.message(channel, u.ts);
    return u.channel === channel && status?.threadTs === threadTs && /^(Done|Failed)/.test(u.text ?? "");
  });

describe("mentions", () => {
  it("uses the files of a mention as references, in order, and answers in its thread", async () => {
    const channel = "C0MENTION1";
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const files = [
      h.api.addFile({ bytes: red, name: "red.png" }),
      h.api.addFile({ bytes: blue, name: "blue.png" }),
    ];
    const message = h.sender.userMessage({ text: h.mentionBot("blend image 1 and image 2"), channel, files });
    await h.sender.deliver(message, "app_mention");

    const request = await h.seedream.request(0);
    expect(request.body?.prompt).toBe("blend image 1 and image 2");
    expect(references(request.body).map(sha256)).toEqual([sha256(red), sha256(blue)]);
    const [upload] = await h.api.recorder.waitFor("upload", 1, { channel, threadTs: message.ts });
    expect(sha256(upload?.bytes ?? Buffer.alloc(0))).toBe(sha256(await h.seedream.imageBytes(0)));
    await summaryIn(channel, message.ts);
    // Downloads carried the bot token, and only to the fake Slack's file host.
    const downloads = h.api.fileHost.downloads.filter((d) => files.some((f) => f.id === d.fileId));
    expect(downloads.map((d) => [d.variant, d.authorized, d.served])).toEqual([
      ["url_private_download", true, "bytes"],
      ["url_private_download", true, "bytes"],
    ]);
  });

  it("completes Slack Connect file stubs with files.info before downloading them", async () => {
    const channel = "C0CONNECT1";
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const stub = h.api.addFile({ bytes: blue, name: "shared.png", connectStub: true });
    const local = h.api.addFile({ bytes: red, name: "local.png" });
    expect(stub).not.toHaveProperty("url_private_download");
    const message = h.sender.userMessage({ text: h.mentionBot("mix them"), channel, files: [stub, local] });
    await h.sender.deliver(message, "app_mention");

    const request = await h.seedream.request(0);
    expect(references(request.body).map(sha256)).toEqual([sha256(blue), sha256(red)]);
    expect(h.api.calls.some((c) => c.method === "files.info" && c.args.file === stub.id)).toBe(true);
    await summaryIn(channel, message.ts);
  });

  it("handles a message once although it arrives as app_mention, as message, and as a retry", async () => {
    const channel = "C0DEDUPE01";
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const duplicates = h.log.count(/duplicate slack delivery ignored/);
    const message = h.sender.userMessage({ text: h.mentionBot("a single owl"), channel });
    const first = await h.sender.deliver(message, "app_mention");
    const asMessage = await h.sender.deliver(message, "message");
    const retry = await h.sender.redeliver(first, { retryNum: 1, retryReason: "http_timeout" });
    expect([first.status, asMessage.status, retry.status]).toEqual([200, 200, 200]);

    await h.log.waitFor(/duplicate slack delivery ignored/, duplicates + 2);
    await summaryIn(channel, message.ts);
    expect(h.seedream.requests).toHaveLength(1);
    expect(h.api.recorder.of("upload").filter((u) => u.channel === channel)).toHaveLength(1);
  });

  it("answers a bad flag in a mention privately, inside the thread", async () => {
    const channel = "C0BADMENT1";
    const message = h.sender.userMessage({ text: h.mentionBot("a cat --n 99"), channel });
    await h.sender.deliver(message, "app_mention");
    const [reply] = await h.api.recorder.waitFor("ephemeral", 1, { channel });
    expect(reply).toMatchObject({ user: h.api.userId, threadTs: message.ts });
    expect(reply?.text).toMatch(/--n/);
    expect(h.seedream.requests).toEqual([]);
  });

  it("answers a mistake only the model reveals (--seed on 4.5) privately, with nothing public", async () => {
    const channel = "C0LATEMEN1";
    const message = h.sender.userMessage({ text: h.mentionBot("a cat --seed 5"), channel });
    await h.sender.deliver(message, "app_mention");
    const [reply] = await h.api.recorder.waitFor("ephemeral", 1, { channel });
    expect(reply).toMatchObject({ user: h.api.userId, threadTs: message.ts });
    expect(reply?.text).toBe("Seedream 4.5 does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.");
    await h.runtime.handler.idle("slack");
    expect(h.api.recorder.of("message").filter((m) => m.channel === channel)).toEqual([]);
    expect(h.seedream.requests).toEqual([]);
  });

  it("ignores channel messages that don't mention the bot, and the bot's own messages", async () => {
    const channel = "C0IGNORE01";
    const chatter = h.sender.userMessage({ text: "just talking about cats", channel });
    await h.sender.deliver(chatter, "message");
    const own = h.sender.userMessage({ text: h.mentionBot("loop?"), channel, user: h.api.botUserId });
    await h.sender.deliver(own, "message");
    // A real mention afterwards is the proof the two above were passed over, not still pending.
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const real = h.sender.userMessage({ text: h.mentionBot("a real request"), channel });
    await h.sender.deliver(real, "app_mention");
    await summaryIn(channel, real.ts);
    expect(h.seedream.requests.map((r) => r.body?.prompt)).toEqual(["a real request"]);
  });
});

describe("editing in a thread the bot started", () => {
  it("a reply mentioning the bot edits the thread's latest image, then the reply's file", async () => {
    const channel = "C0EDITING1";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    await h.sender.slashCommand({ text: "a tiny house --n 2", channelId: channel });
    const [parent] = await h.api.recorder.waitFor("message", 1, (m) => m.channel === channel && !m.threadTs);
    if (!parent) throw new Error("no parent");
    await h.api.recorder.waitFor("update", 1, { ts: parent.ts, text: /Done: 2 of 2/ });

    const file = h.api.addFile({ bytes: blue, name: "palette.png" });
    const reply = h.sender.userMessage({
      text: h.mentionBot("paint it in these colours"),
      channel,
      threadTs: parent.ts,
      files: [file],
    });
    await h.sender.deliver(reply, "app_mention");
    const edit = await h.seedream.request(1);
    expect(edit.body?.prompt).toBe("paint it in these colours");
    expect(references(edit.body).map(sha256)).toEqual([sha256(await h.seedream.imageBytes(1)), sha256(blue)]);
    // The result goes into the same thread.
    await h.api.recorder.waitFor("upload", 3, { channel, threadTs: parent.ts });
    await summaryIn(channel, parent.ts);
  });

  it("#N in a reply picks image N of the thread's latest group", async () => {
    const channel = "C0PICKING1";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }] });
    await h.sender.slashCommand({ text: "three teapots --n 3", channelId: channel });
    const [parent] = await h.api.recorder.waitFor("message", 1, (m) => m.channel === channel && !m.threadTs);
    if (!parent) throw new Error("no parent");
    await h.api.recorder.waitFor("update", 1, { ts: parent.ts, text: /Done: 3 of 3/ });

    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const reply = h.sender.userMessage({
      text: h.mentionBot("#1 make it gold"),
      channel,
      threadTs: parent.ts,
    });
    await h.sender.deliver(reply, "message");
    const edit = await h.seedream.request(1);
    expect(edit.body?.prompt).toBe("make it gold");
    expect(references(edit.body).map(sha256)).toEqual([sha256(await h.seedream.imageBytes(0))]);
    await summaryIn(channel, parent.ts);
  });
});
