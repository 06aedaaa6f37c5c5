/**
 * The fake Slack's interactivity against the REAL Bolt: button presses (`block_actions`) and modal
 * submissions (`view_submission`) POSTed form-encoded and signed to /slack/events reach
 * `app.action` / `app.view`; `views.open` takes the press's trigger_id within 3 s; Block Kit
 * limits and the image-block refusal answer like Slack.
 */
import type { AddressInfo } from "node:net";
import { App, type Logger, LogLevel } from "@slack/bolt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { SlackEventSender } from "../fakes/slack-events.js";
import { SlackInteractivity } from "../fakes/slack-interactive.js";

const SECRET = "0123456789abcdef0123456789abcdef";

const quietLogger = (errors: string[]): Logger => ({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (...msg: unknown[]) => errors.push(msg.map(String).join(" ")),
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
});

let api: FakeSlackApi;
let app: App;
let interactivity: SlackInteractivity;
const boltErrors: string[] = [];
const seen: {
  kind: string;
  value?: string;
  user?: string;
  metadata?: string;
  prompt?: string | null;
  keep?: string[];
}[] = [];
let openViewError: unknown;

const buttons = (value: string) => ({
  type: "actions",
  elements: [
    { type: "button", action_id: "seedream_again", text: { type: "plain_text", text: "Again" }, value },
    { type: "button", action_id: "seedream_edit", text: { type: "plain_text", text: "Edit…" }, value },
  ],
});

async function postButtons(value: string, threadTs?: string): Promise<string> {
  const posted = await app.client.chat.postMessage({
    channel: "C0GENERAL1",
    text: "1/1",
    blocks: [{ type: "context", elements: [{ type: "mrkdwn", text: "1/1" }] }, buttons(value)],
    ...(threadTs ? { thread_ts: threadTs } : {}),
  });
  return posted.ts as string;
}

beforeAll(async () => {
  api = await FakeSlackApi.start();
  app = new App({
    token: api.botToken,
    signingSecret: SECRET,
    logger: quietLogger(boltErrors),
    clientOptions: { slackApiUrl: api.apiUrl, retryConfig: { retries: 0 } },
  });
  app.action("seedream_again", async ({ ack, body, action }) => {
    await ack();
    seen.push({ kind: "again", value: (action as { value?: string }).value, user: body.user.id });
  });
  app.action("seedream_edit", async ({ ack, body, client, action }) => {
    await ack();
    const value = (action as { value?: string }).value ?? "";
    try {
      await client.views.open({
        trigger_id: (body as { trigger_id: string }).trigger_id,
        view: {
          type: "modal",
          callback_id: "seedream_edit",
          private_metadata: value,
          title: { type: "plain_text", text: "Edit image" },
          submit: { type: "plain_text", text: "Edit" },
          blocks: [
            {
              type: "input",
              block_id: "prompt",
              label: { type: "plain_text", text: "What should change?" },
              element: { type: "plain_text_input", action_id: "prompt", multiline: true },
            },
            {
              type: "input",
              block_id: "keep",
              optional: true,
              label: { type: "plain_text", text: "References" },
              element: {
                type: "checkboxes",
                action_id: "keep",
                options: [{ text: { type: "plain_text", text: "Keep the other references" }, value: "keep" }],
              },
            },
          ],
        },
      });
    } catch (error) {
      openViewError = error;
    }
  });
  app.view("seedream_edit", async ({ ack, view, body }) => {
    await ack();
    seen.push({
      kind: "submit",
      user: body.user.id,
      metadata: view.private_metadata,
      prompt: view.state.values.prompt?.prompt?.value ?? null,
      keep: (view.state.values.keep?.keep?.selected_options ?? []).map((o) => o.value),
    });
  });
  const server = (await app.start(0)) as { address(): AddressInfo };
  const sender = new SlackEventSender({
    appUrl: `http://127.0.0.1:${server.address().port}`,
    signingSecret: SECRET,
    api,
  });
  interactivity = new SlackInteractivity(sender, api);
});
afterAll(async () => {
  await app.stop();
  await api.close();
});
beforeEach(() => {
  seen.length = 0;
  openViewError = undefined;
});

describe("Slack interactivity through real Bolt", () => {
  it("delivers a block_actions press to app.action with the button's value, acked with 200", async () => {
    const ts = await postButtons('{"f":"F1","r":"run-1","i":0}');
    const press = await interactivity.pressButton({
      channel: "C0GENERAL1",
      messageTs: ts,
      actionId: "seedream_again",
      user: "U0BOB00001",
    });
    expect(press.status).toBe(200);
    expect(press.elapsedMs).toBeLessThan(3000);
    expect(seen).toEqual([{ kind: "again", value: '{"f":"F1","r":"run-1","i":0}', user: "U0BOB00001" }]);
    expect(press.payload).toMatchObject({
      type: "block_actions",
      container: { type: "message", message_ts: ts, channel_id: "C0GENERAL1" },
      message: { ts, bot_id: api.botId },
    });
    expect(boltErrors).toEqual([]);
  });

  it("carries the thread of a press on a message in a thread", async () => {
    const parent = await app.client.chat.postMessage({ channel: "C0GENERAL1", text: "parent" });
    const ts = await postButtons("v", parent.ts as string);
    const press = await interactivity.pressButton({
      channel: "C0GENERAL1",
      messageTs: ts,
      actionId: "seedream_again",
    });
    expect(press.payload).toMatchObject({
      container: { thread_ts: parent.ts },
      message: { thread_ts: parent.ts },
    });
  });

  it("opens a modal with the press's trigger_id and delivers its view_submission to app.view", async () => {
    const ts = await postButtons("meta-123");
    const view = api.recorder.next("view");
    await interactivity.pressButton({ channel: "C0GENERAL1", messageTs: ts, actionId: "seedream_edit" });
    const opened = await view;
    expect(openViewError).toBeUndefined();
    expect(opened.view).toMatchObject({
      callback_id: "seedream_edit",
      private_metadata: "meta-123",
      type: "modal",
    });
    expect(opened.inputs.map((i) => [i.blockId, i.actionId, i.type])).toEqual([
      ["prompt", "prompt", "plain_text_input"],
      ["keep", "keep", "checkboxes"],
    ]);
    const submit = await interactivity.submitView({
      view: opened,
      values: { prompt: "make it night", keep: ["keep"] },
    });
    expect(submit.status).toBe(200);
    expect(submit.body).toBe("");
    expect(seen).toEqual([
      { kind: "submit", user: api.userId, metadata: "meta-123", prompt: "make it night", keep: ["keep"] },
    ]);
  });

  it("refuses views.open with an unknown, reused or expired trigger_id", async () => {
    const view = { type: "modal" as const, title: { type: "plain_text" as const, text: "x" }, blocks: [] };
    await expect(app.client.views.open({ trigger_id: "123.made.up", view })).rejects.toMatchObject({
      data: { error: "invalid_trigger_id" },
    });
    const trigger = api.workspace.issueTrigger();
    await app.client.views.open({ trigger_id: trigger, view });
    await expect(app.client.views.open({ trigger_id: trigger, view })).rejects.toMatchObject({
      data: { error: "expired_trigger_id" },
    });
    const tooLongTitle = { ...view, title: { type: "plain_text" as const, text: "x".repeat(25) } };
    await expect(
      app.client.views.open({ trigger_id: api.workspace.issueTrigger(), view: tooLongTitle }),
    ).rejects.toMatchObject({
      data: { error: "invalid_arguments" },
    });
  });

  it("enforces Block Kit limits on buttons", async () => {
    const longValue = {
      type: "actions",
      elements: [
        { type: "button", action_id: "a", text: { type: "plain_text", text: "A" }, value: "x".repeat(2001) },
      ],
    };
    await expect(
      app.client.chat.postMessage({ channel: "C0GENERAL1", text: "x", blocks: [longValue] }),
    ).rejects.toMatchObject({
      data: { error: "invalid_blocks" },
    });
    const duplicate = {
      type: "actions",
      elements: ["a", "a"].map((id) => ({
        type: "button",
        action_id: id,
        text: { type: "plain_text", text: "A" },
      })),
    };
    await expect(
      app.client.chat.postMessage({ channel: "C0GENERAL1", text: "x", blocks: [duplicate] }),
    ).rejects.toMatchObject({
      data: { error: "invalid_blocks" },
    });
  });

  it("shows an uploaded file in an image block, refuses an unknown file and, when told to, the next image block", async () => {
    const uploaded = await app.client.files.uploadV2({
      file: Buffer.from("89504e470d0a1a0a", "hex"),
      filename: "a.png",
    });
    const fileId = (uploaded as unknown as { files: { files: { id: string }[] }[] }).files[0]?.files[0]
      ?.id as string;
    const block = (id: string) => [{ type: "image", slack_file: { id }, alt_text: "a cat" }];
    await app.client.chat.postMessage({ channel: "C0GENERAL1", text: "1/1", blocks: block(fileId) });
    await expect(
      app.client.chat.postMessage({ channel: "C0GENERAL1", text: "1/1", blocks: block("F0NOPE") }),
    ).rejects.toMatchObject({
      data: { error: "invalid_blocks" },
    });
    api.refuseImageBlocks(1);
    await expect(
      app.client.chat.postMessage({ channel: "C0GENERAL1", text: "1/1", blocks: block(fileId) }),
    ).rejects.toMatchObject({
      data: { error: "invalid_blocks", errors: ["invalid slack file [json-pointer:/blocks/0/slack_file]"] },
    });
    await app.client.chat.postMessage({ channel: "C0GENERAL1", text: "1/1", blocks: block(fileId) });
  });

  it("answers users.info with the admin flags a test sets", async () => {
    api.setScopes([...api.workspace.scopes, "users:read"]);
    api.setUser("U0ADMIN001", { isAdmin: true });
    const info = await app.client.users.info({ user: "U0ADMIN001" });
    expect(info.user).toMatchObject({ id: "U0ADMIN001", is_admin: true, is_owner: false });
  });
});
