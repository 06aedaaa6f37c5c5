/**
 * One-click follow-ups on Slack, through real Bolt against the fakes: each image shared into its
 * thread is followed by a compact "2/4" message with Again / Vary / Edit… buttons; a running
 * status carries Cancel; presses (block_actions) and the Edit… form (views.open →
 * view_submission) are acked within 3 s and start runs in the original thread.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decodeEditMetadata } from "../../adapters/slack/slack-buttons.js";
import { SlackInteractivity } from "../fakes/slack-interactive.js";
import type { PostedMessage } from "../fakes/slack-recorder.js";
import { looksSame, referencesOf } from "../helpers/thumbnail.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

let h: SlackHarness;
let clicks: SlackInteractivity;
let photo: Buffer;
const BOB = "U0BOB00001";

beforeAll(async () => {
  h = await startSlackHarness();
  clicks = new SlackInteractivity(h.sender, h.api);
  photo = await sharp({ create: { width: 96, height: 64, channels: 3, background: "#20a040" } })
    .png()
    .toBuffer();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.seedream.reset());

type Button = { action_id: string; value: string };
const buttonsOf = (message: { blocks?: unknown[] } | undefined): Button[] =>
  (message?.blocks ?? []).flatMap((block) =>
    ((block as { elements?: Button[] }).elements ?? []).filter((e) => "action_id" in e),
  );

/** The compact buttons messages of a thread, in order. */
const buttonMessages = (channel: string, threadTs: string): PostedMessage[] =>
  h.api
    .thread(channel, threadTs)
    .filter(
      (r): r is PostedMessage =>
        r.kind === "message" && buttonsOf(r).some((b) => b.action_id === "seedream_again"),
    );

/** Resolves once the status message in `threadTs` shows a summary (count of them: `n`). */
const summaries = (channel: string, threadTs: string, n: number) =>
  h.api.recorder.waitFor("update", n, (u) => {
    const status = h.api.message(channel, u.ts);
    return (
      u.channel === channel &&
      (status?.threadTs === threadTs || u.ts === threadTs) &&
      /(^|\n)(Done|Failed|Cancelled)/.test(u.text ?? "")
    );
  });

/** A mention with the green photo asking for `n` images; resolves with its thread once answered. */
async function mentionRun(channel: string, prompt: string, n: number) {
  h.seedream.setScenario({ images: Array.from({ length: n }, () => ({ kind: "ok" as const })) });
  const file = h.api.addFile({ bytes: photo, name: "green.png" });
  const message = h.sender.userMessage({ text: h.mentionBot(`${prompt} --n ${n}`), channel, files: [file] });
  await h.sender.deliver(message, "app_mention");
  await summaries(channel, message.ts, 1);
  await h.api.recorder.waitFor(
    "message",
    n,
    (m) => m.channel === channel && buttonsOf(m).length > 0 && m.threadTs === message.ts,
  );
  return { threadTs: message.ts, file };
}

describe("image buttons", () => {
  it("shares each image into the thread, followed at once by '2/2' and Again/Vary/Edit… carrying its file id", async () => {
    const channel = "C0BUTTONS1";
    const { threadTs } = await mentionRun(channel, "two owls", 2);
    const thread = h.api.thread(channel, threadTs);
    const uploads = thread.filter((r) => r.kind === "upload");
    const messages = buttonMessages(channel, threadTs);
    expect(uploads).toHaveLength(2);
    expect(messages).toHaveLength(2);
    for (const upload of uploads) {
      // The buttons message comes right after its image.
      const next = thread[thread.indexOf(upload) + 1] as PostedMessage;
      expect(buttonMessages(channel, threadTs)).toContain(next);
      const buttons = buttonsOf(next);
      expect(buttons.map((b) => b.action_id)).toEqual(["seedream_again", "seedream_vary", "seedream_edit"]);
      for (const button of buttons) expect(button.value).toContain(upload.fileId);
      expect(next.text).toMatch(/^[12]\/2$/);
    }
    // No image block is ever sent: nothing for Slack to refuse.
    expect(h.api.calls.filter((c) => JSON.stringify(c.args.blocks ?? "").includes('"type":"image"'))).toEqual(
      [],
    );
  });

  it("Again (pressed by someone else): acked within 3 s, same prompt, parameters and reference bytes, a new run of the presser in the thread", async () => {
    const channel = "C0AGAIN001";
    const { threadTs } = await mentionRun(channel, "a green fox --size 2K", 2);
    const first = h.seedream.requests[0];
    const target = buttonMessages(channel, threadTs)[1] as PostedMessage;

    const press = await clicks.pressButton({
      channel,
      messageTs: target.ts,
      actionId: "seedream_again",
      user: BOB,
    });
    expect(press.status).toBe(200);
    expect(press.elapsedMs).toBeLessThan(3000);
    const again = await h.seedream.request(1);
    expect(again.body).toMatchObject({
      prompt: "a green fox",
      size: first?.body?.size,
      sequential_image_generation_options: { max_images: 2 },
    });
    expect(referencesOf(again)).toEqual(referencesOf(first));
    expect(await looksSame(referencesOf(again)[0] ?? "", photo)).toBe(true);

    await summaries(channel, threadTs, 2);
    expect(h.api.thread(channel, threadTs).filter((r) => r.kind === "upload")).toHaveLength(4);
    const runs = await Promise.all(
      h.api
        .thread(channel, threadTs)
        .filter((r) => r.kind === "upload")
        .map((u) => h.runtime.store.findImage("slack", u.fileId)),
    );
    expect(runs.map((image) => image?.index)).toEqual([0, 1, 0, 1]);
    const againRun = await h.runtime.store.getRun(runs[3]?.runId ?? "");
    expect(againRun?.userId).toBe(BOB);
  });

  it("Vary: the pressed image is the only reference, with the original prompt and n", async () => {
    const channel = "C0VARY0001";
    const { threadTs } = await mentionRun(channel, "three pears", 3);
    const uploads = h.api.thread(channel, threadTs).filter((r) => r.kind === "upload");
    const target = buttonMessages(channel, threadTs)[2] as PostedMessage;
    const pressedFile = buttonsOf(target)[0]?.value ?? "";
    const pressedUpload = uploads.find((u) => pressedFile.includes(u.fileId));

    const press = await clicks.pressButton({ channel, messageTs: target.ts, actionId: "seedream_vary" });
    expect(press.elapsedMs).toBeLessThan(3000);
    const vary = await h.seedream.request(1);
    expect(vary.body).toMatchObject({
      prompt: "three pears",
      sequential_image_generation_options: { max_images: 3 },
    });
    const references = referencesOf(vary);
    expect(references).toHaveLength(1);
    expect(await looksSame(references[0] ?? "", pressedUpload?.bytes ?? Buffer.alloc(0))).toBe(true);
    expect(await looksSame(references[0] ?? "", photo)).toBe(false);
    await summaries(channel, threadTs, 2);
  });

  it("Edit…: views.open with the press's trigger, the form's text and 'keep the other references' start an edit in the thread", async () => {
    const channel = "C0EDIT0001";
    const { threadTs } = await mentionRun(channel, "a barn", 1);
    const [upload] = h.api.thread(channel, threadTs).filter((r) => r.kind === "upload");
    const target = buttonMessages(channel, threadTs)[0] as PostedMessage;

    const opened = h.api.recorder.next("view");
    const press = await clicks.pressButton({
      channel,
      messageTs: target.ts,
      actionId: "seedream_edit",
      user: BOB,
    });
    const view = await opened;
    expect(press.elapsedMs).toBeLessThan(3000);
    expect(view.triggerId).toBe(press.triggerId);
    expect(view.view.callback_id).toBe("seedream_edit");
    expect(view.inputs.map((i) => [i.blockId, i.actionId, i.type])).toEqual([
      ["prompt", "prompt", "plain_text_input"],
      ["keep", "keep", "checkboxes"],
    ]);
    expect(decodeEditMetadata(String(view.view.private_metadata))).toMatchObject({
      channel,
      threadTs,
      fileId: upload?.kind === "upload" ? upload.fileId : "",
    });

    const submit = await clicks.submitView({
      view,
      values: { prompt: "make it snow --ar 16:9", keep: ["keep"] },
      user: BOB,
    });
    expect(submit.status).toBe(200);
    expect(submit.elapsedMs).toBeLessThan(3000);
    const edit = await h.seedream.request(1);
    expect(edit.body).toMatchObject({ prompt: "make it snow", size: "2560x1440" });
    const references = referencesOf(edit);
    expect(references).toHaveLength(2);
    expect(
      await looksSame(references[0] ?? "", upload?.kind === "upload" ? upload.bytes : Buffer.alloc(0)),
    ).toBe(true);
    expect(await looksSame(references[1] ?? "", photo)).toBe(true);
    await summaries(channel, threadTs, 2);
    expect(h.api.thread(channel, threadTs).filter((r) => r.kind === "upload")).toHaveLength(2);
  });
});

describe("Cancel", () => {
  it("the running status carries seedream_cancel; a stranger is told privately, the requester's press closes the stream", async () => {
    const channel = "C0CANCEL01";
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
    const message = h.sender.userMessage({ text: h.mentionBot("two kites --n 2"), channel });
    await h.sender.deliver(message, "app_mention");
    await h.seedream.reached(1);
    // The run asks Seedream while its status is still being posted, so wait for the post itself.
    const [status] = await h.api.recorder.waitFor(
      "message",
      1,
      (r) =>
        r.channel === channel &&
        r.threadTs === message.ts &&
        buttonsOf(r).some((b) => b.action_id === "seedream_cancel"),
    );
    expect(status).toBeDefined();
    const ts = status?.ts ?? "";

    const ephemeral = h.api.recorder.next("ephemeral", { channel });
    const stranger = await clicks.pressButton({
      channel,
      messageTs: ts,
      actionId: "seedream_cancel",
      user: BOB,
    });
    expect(stranger.elapsedMs).toBeLessThan(3000);
    expect(await ephemeral).toMatchObject({ user: BOB, text: `Only <@${h.api.userId}> can cancel this.` });
    expect(h.seedream.wasSent(1)).toBe(false);

    await clicks.pressButton({ channel, messageTs: ts, actionId: "seedream_cancel" });
    expect(await h.seedream.closed(0)).toBe("aborted");
    await summaries(channel, message.ts, 1);
    const shown = h.api.message(channel, ts);
    expect(shown?.text).toMatch(/^Cancelled/);
    expect(buttonsOf(shown)).toEqual([]);
  });

  it("a workspace admin may cancel anyone's run", async () => {
    const channel = "C0CANCEL02";
    h.api.setScopes([...h.api.workspace.scopes, "users:read"]);
    h.api.setUser("U0ADMIN001", { isAdmin: true });
    h.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });
    const message = h.sender.userMessage({ text: h.mentionBot("a comet"), channel });
    await h.sender.deliver(message, "app_mention");
    await h.seedream.reached(0);
    const [status] = await h.api.recorder.waitFor(
      "message",
      1,
      (r) => r.channel === channel && r.threadTs === message.ts && buttonsOf(r).length > 0,
    );
    await clicks.pressButton({
      channel,
      messageTs: status?.ts ?? "",
      actionId: "seedream_cancel",
      user: "U0ADMIN001",
    });
    expect(await h.seedream.closed(0)).toBe("aborted");
  });
});

describe("after a restart", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "seedream-buttons-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a press on an image posted before the restart works (sqlite store); one whose record is gone is told it is too old", async () => {
    const channel = "C0RESTART1";
    const shared = { api: h.api, seedream: h.seedream };
    const env = { STORE_URL: `sqlite://${join(dir, "bot.sqlite")}` };
    const before = await startSlackHarness(env, {}, {}, shared);
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const message = before.sender.userMessage({ text: before.mentionBot("an old clock"), channel });
    await before.sender.deliver(message, "app_mention");
    await summaries(channel, message.ts, 1);
    await h.api.recorder.waitFor("message", 1, (m) => m.channel === channel && buttonsOf(m).length > 0);
    await before.close();

    const after = await startSlackHarness(env, {}, {}, shared);
    try {
      const target = buttonMessages(channel, message.ts)[0] as PostedMessage;
      const press = await new SlackInteractivity(after.sender, h.api).pressButton({
        channel,
        messageTs: target.ts,
        actionId: "seedream_again",
      });
      expect(press.elapsedMs).toBeLessThan(3000);
      expect((await h.seedream.request(1)).body?.prompt).toBe("an old clock");
      await summaries(channel, message.ts, 2);
    } finally {
      await after.close();
    }

    // A store without the record (expired, or emptied): nothing runs, the presser is told why.
    const forgotten = await startSlackHarness(
      { STORE_URL: `sqlite://${join(dir, "empty.sqlite")}` },
      {},
      {},
      shared,
    );
    try {
      const target = buttonMessages(channel, message.ts)[0] as PostedMessage;
      const ephemeral = h.api.recorder.next("ephemeral", { channel });
      await new SlackInteractivity(forgotten.sender, h.api).pressButton({
        channel,
        messageTs: target.ts,
        actionId: "seedream_vary",
      });
      expect((await ephemeral).text).toBe(
        "This image is too old to reuse; reply to it with the image attached.",
      );
      const editView = h.api.recorder.of("view").length;
      const ephemeral2 = h.api.recorder.next("ephemeral", { channel });
      await new SlackInteractivity(forgotten.sender, h.api).pressButton({
        channel,
        messageTs: target.ts,
        actionId: "seedream_edit",
      });
      expect((await ephemeral2).text).toBe(
        "This image is too old to reuse; reply to it with the image attached.",
      );
      expect(h.api.recorder.of("view")).toHaveLength(editView);
      expect(h.seedream.requests).toHaveLength(2);
    } finally {
      await forgotten.close();
    }
  });
});

describe("image-block fallback", () => {
  it("with Slack refusing image blocks, every image still arrives (as a file share) with its buttons", async () => {
    const channel = "C0REFUSED1";
    h.api.refuseImageBlocks(5);
    try {
      const { threadTs } = await mentionRun(channel, "two clouds", 2);
      const thread = h.api.thread(channel, threadTs);
      expect(thread.filter((r) => r.kind === "upload")).toHaveLength(2);
      expect(buttonMessages(channel, threadTs)).toHaveLength(2);
      expect(h.api.calls.filter((c) => c.error === "invalid_blocks")).toEqual([]);
    } finally {
      h.api.workspace.imageBlockRefusals = 0;
    }
  });
});
