/**
 * Proves the fake Slack speaks the wire format of the REAL libraries: a real Bolt App (HTTP
 * receiver) receives signed requests from SlackEventSender and its real WebClient talks to
 * FakeSlackApi. If these pass, adapter tests built on the fakes exercise real protocol paths.
 */
import type { AddressInfo } from "node:net";
import { App, type Logger, LogLevel, webApi } from "@slack/bolt";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { mention, SlackEventSender } from "../fakes/slack-events.js";
import type { SlackFileObject } from "../fakes/slack-files.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

/** Bolt logs through this; anything at error level is a test failure. */
function collectingLogger(errors: string[]): Logger {
  let level = LogLevel.ERROR;
  return {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (...msg: unknown[]) => errors.push(msg.map(String).join(" ")),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

let api: FakeSlackApi;
let app: App;
let sender: SlackEventSender;
let png: Buffer;
const boltErrors: string[] = [];
const handled: { kind: string; retryNum?: number; eventId?: string }[] = [];
const uploadResults: unknown[] = [];

async function download(url: string, token?: string): Promise<Response> {
  return fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: "manual" });
}

beforeAll(async () => {
  png = await sharp({ create: { width: 3, height: 2, channels: 3, background: "#c03" } })
    .png()
    .toBuffer();
  api = await FakeSlackApi.start();
  app = new App({
    token: api.botToken,
    signingSecret: SECRET,
    logger: collectingLogger(boltErrors),
    // No retries: a 429 or 5xx must surface, not stall the test for minutes.
    clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
  });

  app.command("/seedream", async ({ ack, command, client, respond }) => {
    await ack();
    handled.push({ kind: "command" });
    const parent = await client.chat.postMessage({
      channel: command.channel_id,
      text: `<@${command.user_id}> asked: ${command.text}`,
    });
    const uploaded = await client.files.uploadV2({
      channel_id: command.channel_id,
      thread_ts: parent.ts as string,
      file: png,
      filename: "seedream-1.png",
      alt_text: command.text,
    });
    uploadResults.push(uploaded);
    await client.chat.update({ channel: command.channel_id, ts: parent.ts as string, text: "done: 1 image" });
    await respond({ text: "finished", response_type: "ephemeral" });
  });

  app.event("app_mention", async ({ event, client, context, body }) => {
    handled.push({ kind: "app_mention", retryNum: context.retryNum, eventId: body.event_id });
    for (const stub of event.files ?? []) {
      // Slack Connect stubs carry no URLs; files.info has the full object.
      const file =
        stub.file_access === "check_file_info" ? (await client.files.info({ file: stub.id })).file : stub;
      const res = await download(String(file?.url_private_download), context.botToken);
      await client.files.uploadV2({
        channel_id: event.channel,
        thread_ts: event.thread_ts ?? event.ts,
        file: Buffer.from(await res.arrayBuffer()),
        filename: `echo-${file?.name}`,
        alt_text: "echo",
      });
    }
  });

  app.event("message", async ({ body }) => {
    handled.push({ kind: "message", eventId: body.event_id });
  });

  const server = await app.start({ port: 0, host: "127.0.0.1" });
  const { port } = server.address() as AddressInfo;
  sender = new SlackEventSender({ appUrl: `http://127.0.0.1:${port}`, signingSecret: SECRET, api });
});

afterAll(async () => {
  await app?.stop();
  await api?.close();
});

beforeEach(() => {
  handled.length = 0;
});

describe("fake Slack with real Bolt + WebClient", () => {
  it("slash command: ack, parent message, upload bytes in its thread, update, response_url", async () => {
    const held = api.hold("chat.postMessage");
    const ack = await sender.slashCommand({ text: "a red fox", channelId: "C0SLASH001" });
    // The ack arrived while the handler's first API call was still held.
    expect(ack.status).toBe(200);
    await held.reached;
    held.release();

    const [upload] = await api.recorder.waitFor("upload", 1, { channel: "C0SLASH001" });
    const [parent] = api.recorder.of("message").filter((m) => m.channel === "C0SLASH001");
    expect(parent?.text).toBe(`<@${api.userId}> asked: a red fox`);
    expect(upload?.threadTs).toBe(parent?.ts);
    expect(upload?.bytes.equals(png)).toBe(true);
    expect(upload).toMatchObject({
      filename: "seedream-1.png",
      title: "seedream-1.png",
      altText: "a red fox",
    });
    expect(upload?.declaredLength).toBe(png.length);
    // web-api sends `alt_text`; Slack documents `alt_txt` (see report).
    expect(upload?.altTextField).toBe("alt_text");
    expect(upload?.uploadContentType).toMatch(/^multipart\/form-data/);

    const response = await api.recorder.waitFor("response_url", 1, (r) => r.url === ack.responseUrl);
    expect(response[0]).toMatchObject({ text: "finished", responseType: "ephemeral" });
    // respond() ran after uploadV2 returned. uploadV2 nests one completeUploadExternal answer per
    // destination, and (like Slack) no message ts anywhere.
    expect(uploadResults[0]).toMatchObject({
      ok: true,
      files: [{ ok: true, files: [{ id: upload?.fileId }] }],
    });
    expect(JSON.stringify(uploadResults[0])).not.toContain(String(parent?.ts));
    await api.recorder.waitFor("update", 1, { ts: parent?.ts });
    expect(api.message("C0SLASH001", parent?.ts ?? "")).toMatchObject({ text: "done: 1 image", edits: 1 });
    expect(api.thread("C0SLASH001", parent?.ts ?? "").map((r) => r.kind)).toEqual(["upload"]);

    // The uploaded file is itself downloadable (what a later edit in the thread needs).
    const info = await new webApi.WebClient(api.botToken, { slackApiUrl: api.apiUrl }).files.info({
      file: upload?.fileId ?? "",
    });
    const again = await download(String(info.file?.url_private_download), api.botToken);
    expect(Buffer.from(await again.arrayBuffer()).equals(png)).toBe(true);

    const calls = api.calls.filter((c) => c.method !== "auth.test");
    expect(calls.every((c) => c.tokenVia === "header" && c.ok)).toBe(true);
    expect(calls.map((c) => c.method)).toEqual([
      "chat.postMessage",
      "files.getUploadURLExternal",
      "files.completeUploadExternal",
      "chat.update",
      "files.info",
    ]);
    expect(boltErrors).toEqual([]);
  });

  it("app_mention with a file and a Slack Connect stub: downloads with the token, echoes bytes", async () => {
    const other = Buffer.from("second file bytes");
    const file = api.addFile({ bytes: png, name: "ref.png" }) as SlackFileObject;
    const stub = api.addFile({ bytes: other, name: "other.png", connectStub: true });
    expect(file).toMatchObject({ mimetype: "image/png", filetype: "png", size: png.length, original_w: 3 });
    expect(stub).toEqual({
      id: stub.id,
      mode: "file_access",
      file_access: "check_file_info",
      created: 0,
      timestamp: 0,
      user: "",
    });

    const msg = sender.userMessage({
      text: `${mention(api.botUserId)} remix`,
      channel: "C0MENTION1",
      files: [file, stub],
    });
    const first = await sender.deliver(msg, "app_mention");
    expect(first.status).toBe(200);

    const uploads = await api.recorder.waitFor("upload", 2, { channel: "C0MENTION1" });
    expect(uploads.map((u) => u.threadTs)).toEqual([msg.ts, msg.ts]);
    expect(uploads[0]?.bytes.equals(png)).toBe(true);
    expect(uploads[1]?.bytes.equals(other)).toBe(true);
    expect(uploads.map((u) => u.filename)).toEqual(["echo-ref.png", "echo-other.png"]);
    const downloads = api.fileHost.downloads.filter((d) => d.fileId === file.id || d.fileId === stub.id);
    expect(downloads.map((d) => [d.variant, d.authorized, d.served])).toEqual([
      ["url_private_download", true, "bytes"],
      ["url_private_download", true, "bytes"],
    ]);

    // Same message as a `message` event, then Slack's retry of the mention: Bolt sees retryNum.
    await sender.deliver(msg, "message");
    const retry = await sender.redeliver(first, { retryNum: 1 });
    expect(retry.eventId).toBe(first.eventId);
    await api.recorder.waitFor("upload", 4, { channel: "C0MENTION1" });
    expect(handled.map((h) => [h.kind, h.retryNum])).toEqual([
      ["app_mention", undefined],
      ["message", undefined],
      ["app_mention", 1],
    ]);
    expect(handled[2]?.eventId).toBe(first.eventId);
    expect(handled[1]?.eventId).not.toBe(first.eventId);
  });

  it("bad or stale signature → 401 and no handler runs", async () => {
    const before = api.calls.length;
    const bad = await sender.slashCommand({ text: "nope" }, { badSignature: true });
    const stale = await sender.slashCommand(
      { text: "nope" },
      { timestampSec: Math.floor(Date.now() / 1000) - 600 },
    );
    const msg = sender.userMessage({ text: `${mention(api.botUserId)} hi` });
    const badEvent = await sender.deliver(msg, "app_mention", { badSignature: true });
    expect([bad.status, stale.status, badEvent.status]).toEqual([401, 401, 401]);
    expect(handled).toEqual([]);
    expect(api.calls.length).toBe(before);
  });
});

describe("fake Slack downloads", () => {
  it("serves a login page (HTTP 200, HTML) without the token, or without files:read", async () => {
    const file = api.addFile({ bytes: png, name: "x.png" }) as SlackFileObject;
    const anonymous = await download(file.url_private_download);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await anonymous.text()).toContain("<!DOCTYPE html>");
    expect((await download(file.url_private_download, "xoxb-wrong")).headers.get("content-type")).toMatch(
      /html/,
    );

    api.setScopes(["chat:write", "files:write"]);
    try {
      const noScope = await download(file.url_private, api.botToken);
      expect(noScope.headers.get("content-type")).toMatch(/^text\/html/);
    } finally {
      api.setScopes(["app_mentions:read", "chat:write", "commands", "files:read", "files:write"]);
    }
    const ok = await download(file.url_private, api.botToken);
    expect(ok.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await ok.arrayBuffer()).equals(png)).toBe(true);
  });

  it("html-instead-of-bytes and cross-host redirects are served as configured", async () => {
    const html = api.addFile({ bytes: png, name: "h.png", serve: "html" }) as SlackFileObject;
    const res = await download(html.url_private_download, api.botToken);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);

    const target = api.foreignUrl("evil.png");
    const moved = api.addFile({
      bytes: png,
      name: "r.png",
      serve: { redirectTo: target },
    }) as SlackFileObject;
    const redirect = await download(moved.url_private_download, api.botToken);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(target);
    expect(new URL(target).host).not.toBe(new URL(api.url).host);
    // A client that blindly follows with the token would leak it; the foreign host records that.
    await (await download(target, api.botToken)).text();
    expect(api.foreignHits.at(-1)?.authorization).toBe(`Bearer ${api.botToken}`);
  });
});

describe("fake Slack errors through the real WebClient", () => {
  const client = () =>
    new webApi.WebClient(api.botToken, {
      slackApiUrl: api.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: collectingLogger([]),
    });

  it("injected platform errors apply once, then calls succeed", async () => {
    api.failNext("chat.postMessage", { error: "not_in_channel" });
    const err = await client()
      .chat.postMessage({ channel: "C0ERR00001", text: "hi" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: webApi.ErrorCode.PlatformError,
      data: { ok: false, error: "not_in_channel" },
    });
    await expect(client().chat.postMessage({ channel: "C0ERR00001", text: "hi" })).resolves.toMatchObject({
      ok: true,
    });
  });

  it("ratelimited → HTTP 429 with Retry-After, seen as WebAPIRateLimitedError", async () => {
    api.failNext("files.getUploadURLExternal", { error: "ratelimited", retryAfter: 7 });
    const err = await client()
      .files.uploadV2({ channel_id: "C0ERR00001", file: png, filename: "a.png" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it("membership, auth, unknown methods and bad updates answer like Slack", async () => {
    api.setChannel("C0NOTMEMBR", { isMember: false });
    const codes = await Promise.all(
      [
        client().files.uploadV2({ channel_id: "C0NOTMEMBR", file: png, filename: "a.png" }),
        client().chat.postMessage({ channel: "C0NOTMEMBR", text: "x" }),
        new webApi.WebClient("xoxb-not-valid", { slackApiUrl: api.apiUrl }).auth.test(),
        client().apiCall("chat.notAMethod"),
        client().chat.update({ channel: "C0ERR00001", ts: "1.000001", text: "x" }),
        client().chat.postMessage({ channel: "C0ERR00001", text: "x".repeat(40_001) }),
        client().conversations.info({ channel: "C0ERR00001" }),
      ].map((p) =>
        p.then(
          () => "ok",
          (e: { data?: { error?: string } }) => e.data?.error,
        ),
      ),
    );
    expect(codes).toEqual([
      "not_in_channel",
      "not_in_channel",
      "invalid_auth",
      "unknown_method",
      "message_not_found",
      "msg_too_long",
      "missing_scope",
    ]);
  });

  it("chat.update refuses a human's message", async () => {
    const msg = sender.userMessage({ text: "mine", channel: "C0ERR00001" });
    const err = await client()
      .chat.update({ channel: msg.channel, ts: msg.ts, text: "edited" })
      .catch((e: { data?: { error?: string } }) => e.data?.error);
    expect(err).toBe("cant_update_message");
  });
});
