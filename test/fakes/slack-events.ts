/**
 * Plays Slack's side of the Events API / slash commands against an app's HTTP endpoint: builds
 * the payloads Slack sends, signs them (`X-Slack-Signature` v0 = HMAC-SHA256 of
 * `v0:{timestamp}:{body}` with the signing secret) and POSTs them, optionally as a retry.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { FakeSlackApi } from "./slack-api.js";
import type { EventFile } from "./slack-files.js";
import { randomId } from "./slack-wire.js";

export function signSlackRequest(
  signingSecret: string,
  body: string,
  timestampSec: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const hash = createHmac("sha256", signingSecret).update(`v0:${timestampSec}:${body}`).digest("hex");
  return { "x-slack-signature": `v0=${hash}`, "x-slack-request-timestamp": String(timestampSec) };
}

export interface DeliveryOptions {
  /** Sent as `X-Slack-Retry-Num` (Slack retries after 3 s without a 2xx). */
  retryNum?: number;
  /** Sent as `X-Slack-Retry-Reason`, e.g. "http_timeout". */
  retryReason?: string;
  /** Sign with a wrong secret. */
  badSignature?: boolean;
  /** Override the signed timestamp (seconds), e.g. to send a stale request. */
  timestampSec?: number;
}

export interface SignedResponse {
  status: number;
  headers: Headers;
  body: string;
  /** From sending the request to the app's complete answer: Slack gives up after 3 s. */
  elapsedMs: number;
}

export interface SlashCommandOptions {
  text: string;
  command?: string;
  channelId?: string;
  channelName?: string;
  userId?: string;
  userName?: string;
  /** Defaults to a fresh response_url on the fake. */
  responseUrl?: string;
}

export interface SlashCommandDelivery extends SignedResponse {
  responseUrl: string;
  triggerId: string;
  payload: Record<string, string>;
}

export interface UserMessageOptions {
  text: string;
  channel?: string;
  user?: string;
  /** Reply inside this thread. */
  threadTs?: string;
  files?: EventFile[];
  channelType?: "channel" | "group" | "im" | "mpim";
}

/** A message a human sent; deliver it as `app_mention` and/or `message` events. */
export interface UserMessage {
  channel: string;
  user: string;
  text: string;
  ts: string;
  threadTs?: string;
  files?: EventFile[];
  channelType: string;
}

export interface EventDelivery extends SignedResponse {
  eventId: string;
  envelope: Record<string, unknown>;
}

/** `<@U…>` as Slack writes a mention in message text. */
export function mention(userId: string): string {
  return `<@${userId}>`;
}

/** The rich_text block Slack's client attaches to a typed message (mentions become user elements). */
function richText(text: string): unknown[] {
  const elements: unknown[] = [];
  for (const part of text.split(/(<@[A-Z0-9]+>)/)) {
    if (part === "") continue;
    const user = /^<@([A-Z0-9]+)>$/.exec(part)?.[1];
    elements.push(user ? { type: "user", user_id: user } : { type: "text", text: part });
  }
  return [
    {
      type: "rich_text",
      block_id: randomUUID().slice(0, 5),
      elements: [{ type: "rich_text_section", elements }],
    },
  ];
}

export interface SlackEventSenderOptions {
  /** Base URL of the app's HTTP server, e.g. `http://127.0.0.1:PORT`. */
  appUrl: string;
  signingSecret: string;
  api: FakeSlackApi;
  /** Bolt's default endpoint. */
  path?: string;
}

export class SlackEventSender {
  readonly endpoint: string;

  constructor(private readonly options: SlackEventSenderOptions) {
    this.endpoint = `${options.appUrl.replace(/\/$/, "")}${options.path ?? "/slack/events"}`;
  }

  /** POSTs a raw body with Slack's signature headers. */
  async postSigned(
    body: string,
    contentType: string,
    delivery: DeliveryOptions = {},
  ): Promise<SignedResponse> {
    const secret = delivery.badSignature ? `${this.options.signingSecret}-wrong` : this.options.signingSecret;
    const headers: Record<string, string> = {
      "content-type": contentType,
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      ...signSlackRequest(secret, body, delivery.timestampSec),
    };
    if (delivery.retryNum !== undefined) headers["x-slack-retry-num"] = String(delivery.retryNum);
    if (delivery.retryReason !== undefined) headers["x-slack-retry-reason"] = delivery.retryReason;
    const started = performance.now();
    const response = await fetch(this.endpoint, { method: "POST", headers, body });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text,
      elapsedMs: performance.now() - started,
    };
  }

  async slashCommand(
    options: SlashCommandOptions,
    delivery: DeliveryOptions = {},
  ): Promise<SlashCommandDelivery> {
    const api = this.options.api;
    const responseUrl = options.responseUrl ?? api.newResponseUrl();
    const triggerId = api.workspace.issueTrigger();
    const payload: Record<string, string> = {
      token: "legacy-verification-token",
      team_id: api.teamId,
      team_domain: api.teamDomain,
      channel_id: options.channelId ?? "C0GENERAL1",
      channel_name: options.channelName ?? "general",
      user_id: options.userId ?? api.userId,
      user_name: options.userName ?? api.userName,
      command: options.command ?? "/seedream",
      text: options.text,
      api_app_id: api.appId,
      is_enterprise_install: "false",
      response_url: responseUrl,
      trigger_id: triggerId,
    };
    const body = new URLSearchParams(payload).toString();
    const response = await this.postSigned(body, "application/x-www-form-urlencoded", delivery);
    return { ...response, responseUrl, triggerId, payload };
  }

  /** Creates (and stores in the fake) a message a human posted; nothing is sent yet. */
  userMessage(options: UserMessageOptions): UserMessage {
    const api = this.options.api;
    const message: UserMessage = {
      channel: options.channel ?? "C0GENERAL1",
      user: options.user ?? api.userId,
      text: options.text,
      ts: api.clock.next(),
      channelType: options.channelType ?? "channel",
      ...(options.threadTs !== undefined ? { threadTs: options.threadTs } : {}),
      ...(options.files !== undefined ? { files: options.files } : {}),
    };
    api.storeUserMessage({
      channel: message.channel,
      ts: message.ts,
      threadTs: message.threadTs,
      text: message.text,
      user: message.user,
    });
    return message;
  }

  /** The event_callback envelope Slack sends for `message` as an `app_mention` or `message` event. */
  envelope(message: UserMessage, type: "app_mention" | "message", eventId?: string): Record<string, unknown> {
    const api = this.options.api;
    const event: Record<string, unknown> = {
      type,
      user: message.user,
      text: message.text,
      ts: message.ts,
      team: api.teamId,
      channel: message.channel,
      event_ts: message.ts,
      client_msg_id: randomUUID(),
      blocks: richText(message.text),
    };
    if (type === "message") event.channel_type = message.channelType;
    if (message.files && message.files.length > 0) {
      Object.assign(event, { files: message.files, upload: false, display_as_bot: false });
      if (type === "message") event.subtype = "file_share";
    }
    if (message.threadTs !== undefined) {
      event.thread_ts = message.threadTs;
      const parent = api.message(message.channel, message.threadTs);
      if (parent) event.parent_user_id = parent.user;
    }
    return {
      token: "legacy-verification-token",
      team_id: api.teamId,
      context_team_id: api.teamId,
      context_enterprise_id: null,
      api_app_id: api.appId,
      event,
      type: "event_callback",
      event_id: eventId ?? this.newEventId(),
      event_time: Math.floor(Number(message.ts)),
      authorizations: [
        {
          enterprise_id: null,
          team_id: api.teamId,
          user_id: api.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(`${message.channel}:${type}`).toString("base64url")}`,
    };
  }

  /** Delivers `message` as a new event (fresh event_id). */
  async deliver(
    message: UserMessage,
    type: "app_mention" | "message",
    delivery: DeliveryOptions = {},
  ): Promise<EventDelivery> {
    return this.sendEnvelope(this.envelope(message, type), delivery);
  }

  /** Sends the same envelope again, as Slack's retry would (same event_id, retry headers). */
  async redeliver(previous: EventDelivery, delivery: DeliveryOptions = {}): Promise<EventDelivery> {
    return this.sendEnvelope(previous.envelope, {
      retryNum: 1,
      retryReason: "http_timeout",
      ...delivery,
    });
  }

  async sendEnvelope(
    envelope: Record<string, unknown>,
    delivery: DeliveryOptions = {},
  ): Promise<EventDelivery> {
    const response = await this.postSigned(JSON.stringify(envelope), "application/json", delivery);
    return { ...response, eventId: String(envelope.event_id), envelope };
  }

  /** Unique across senders: several apps may share one fake. */
  private newEventId(): string {
    return randomId("Ev0", 9);
  }
}
