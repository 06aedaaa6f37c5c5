/**
 * Slack's side of interactivity (https://api.slack.com/interactivity/handling): a button press
 * (`block_actions`) and a modal submission (`view_submission`), built from what the fake really
 * holds (the stored message and its buttons, the view views.open returned) and POSTed the way
 * Slack does: form-encoded `payload=<json>`, signed, to the app's request URL (`/slack/events`).
 * Each press carries a fresh trigger_id that views.open accepts for 3 s.
 */
import type { FakeSlackApi } from "./slack-api.js";
import { stateValues } from "./slack-blocks.js";
import type { DeliveryOptions, SignedResponse, SlackEventSender } from "./slack-events.js";
import type { OpenedView } from "./slack-recorder.js";
import type { Params } from "./slack-wire.js";

export interface BlockActionOptions {
  channel: string;
  /** The message carrying the button. */
  messageTs: string;
  actionId: string;
  /** Picks among several buttons with the same action_id (one per image message, say). */
  value?: string;
  /** Who presses; defaults to the fake's human user. */
  user?: string;
  userName?: string;
}

export interface BlockActionDelivery extends SignedResponse {
  triggerId: string;
  responseUrl: string;
  payload: Params;
}

export interface ViewSubmissionOptions {
  /** The view as views.open recorded it. */
  view: OpenedView;
  /** Text by plain_text_input action_id; selected option values by checkboxes action_id. */
  values: Record<string, string | string[]>;
  user?: string;
  userName?: string;
}

export interface ViewSubmissionDelivery extends SignedResponse {
  payload: Params;
}

type Json = Record<string, unknown>;

export class SlackInteractivity {
  constructor(
    private readonly sender: SlackEventSender,
    private readonly api: FakeSlackApi,
  ) {}

  /** Presses a button that really is on the message (Slack only sends presses of real buttons). */
  async pressButton(
    options: BlockActionOptions,
    delivery: DeliveryOptions = {},
  ): Promise<BlockActionDelivery> {
    const api = this.api;
    const message = api.workspace.messagePayload(options.channel, options.messageTs);
    if (!message) throw new Error(`fake Slack: no message ${options.channel}/${options.messageTs}`);
    const found = findButton(message.blocks, options.actionId, options.value);
    if (!found) {
      throw new Error(
        `fake Slack: message ${options.messageTs} has no button ${options.actionId}${options.value ? ` with value ${options.value}` : ""}`,
      );
    }
    const user = options.user ?? api.userId;
    const triggerId = api.workspace.issueTrigger();
    const responseUrl = api.newResponseUrl();
    const container: Json = {
      type: "message",
      message_ts: options.messageTs,
      channel_id: options.channel,
      is_ephemeral: false,
    };
    if (typeof message.thread_ts === "string") container.thread_ts = message.thread_ts;
    const channel = api.workspace.channel(options.channel);
    const action: Json = {
      action_id: options.actionId,
      block_id: found.blockId,
      text: found.button.text,
      type: "button",
      action_ts: `${Date.now() / 1000}`,
    };
    if (found.button.value !== undefined) action.value = found.button.value;
    if (found.button.style !== undefined) action.style = found.button.style;
    const payload: Params = {
      type: "block_actions",
      user: {
        id: user,
        username: options.userName ?? api.userName,
        name: options.userName ?? api.userName,
        team_id: api.teamId,
      },
      api_app_id: api.appId,
      token: "legacy-verification-token",
      container,
      trigger_id: triggerId,
      team: { id: api.teamId, domain: api.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      message,
      state: { values: {} },
      response_url: responseUrl,
      actions: [action],
    };
    const response = await this.post(payload, delivery);
    return { ...response, triggerId, responseUrl, payload };
  }

  /** Submits a modal the app opened, with what the user typed and ticked. */
  async submitView(
    options: ViewSubmissionOptions,
    delivery: DeliveryOptions = {},
  ): Promise<ViewSubmissionDelivery> {
    const api = this.api;
    const user = options.user ?? api.userId;
    const payload: Params = {
      type: "view_submission",
      team: { id: api.teamId, domain: api.teamDomain },
      user: {
        id: user,
        username: options.userName ?? api.userName,
        name: options.userName ?? api.userName,
        team_id: api.teamId,
      },
      api_app_id: api.appId,
      token: "legacy-verification-token",
      trigger_id: api.workspace.issueTrigger(),
      view: { ...options.view.view, state: { values: stateValues(options.view.inputs, options.values) } },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    return { ...(await this.post(payload, delivery)), payload };
  }

  private post(payload: Params, delivery: DeliveryOptions): Promise<SignedResponse> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.sender.postSigned(body, "application/x-www-form-urlencoded", delivery);
  }
}

function findButton(
  blocks: unknown,
  actionId: string,
  value: string | undefined,
): { blockId: string; button: Json } | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const raw of blocks) {
    const block = (raw ?? {}) as Json;
    if (block.type !== "actions" || !Array.isArray(block.elements)) continue;
    for (const element of block.elements as Json[]) {
      if (element.type !== "button" || element.action_id !== actionId) continue;
      if (value !== undefined && element.value !== value) continue;
      return { blockId: typeof block.block_id === "string" ? block.block_id : "generated", button: element };
    }
  }
  return undefined;
}
