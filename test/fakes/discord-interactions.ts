/**
 * Slash-command interactions: INTERACTION_CREATE payloads built from the registered command (so
 * option types and `resolved.attachments` match what Discord would send), the callback endpoint
 * with Discord's 3-second acknowledgement window, and the interaction webhook (follow-ups,
 * @original edits). These routes are called without a bot token, as discord.js does.
 */
import { randomBytes } from "node:crypto";
import type { APIAttachment, APIMessage, APIUser } from "discord.js";
import type { CommandRegistry } from "./discord-commands.js";
import type { FakeGateway } from "./discord-gateway.js";
import {
  type Endpoint,
  errors,
  type HandlerRequest,
  noContent,
  ok,
  type Route,
  route,
} from "./discord-http.js";
import type { MessageWriter } from "./discord-messages.js";
import { Recorder } from "./discord-recorder.js";
import type { World } from "./discord-state.js";

export type SlashOptionValue = string | number | boolean | APIAttachment;

export interface SlashCommandInput {
  /** A registered chat-input command, e.g. `imagine`. */
  name: string;
  options?: Record<string, SlashOptionValue>;
  /** Username of the invoking user; default `alice`. */
  user?: string;
  /** Guild text channel id; default the first channel. Ignored with `dm`. */
  channelId?: string;
  /** Invoke from the user's DM with the bot. */
  dm?: boolean;
}

export interface InteractionState {
  id: string;
  token: string;
  channelId: string;
  guildId?: string;
  user: APIUser;
  createdAt: number;
  /** Callback type once acknowledged (4 reply, 5 deferred...). */
  acknowledged?: number;
  originalMessageId?: string;
  payload: Record<string, unknown>;
}

export interface CallbackRecord {
  interactionId: string;
  type: number;
  json: unknown;
  /** Arrived after the acknowledgement window; Discord answered 404 Unknown interaction. */
  late: boolean;
}

export class Interactions {
  readonly callbacks = new Recorder<CallbackRecord>(
    "interaction callbacks",
    (c) => `${c.interactionId} type ${c.type}`,
  );
  readonly #byToken = new Map<string, InteractionState>();
  readonly #byId = new Map<string, InteractionState>();

  constructor(
    private readonly world: World,
    private readonly commands: CommandRegistry,
    private readonly writer: MessageWriter,
    private readonly gateway: FakeGateway,
    private readonly deadlineMs: number,
  ) {}

  get(id: string): InteractionState | undefined {
    return this.#byId.get(id);
  }

  /** Builds the INTERACTION_CREATE Discord would send and dispatches it. */
  async invoke(input: SlashCommandInput): Promise<InteractionState> {
    const user = this.world.user(input.user ?? "alice");
    const dm = input.dm === true;
    const guild = dm ? undefined : this.world.guilds[0];
    const channelId = dm ? this.world.dmWith(user.id).id : (input.channelId ?? guild?.channels[0]?.id ?? "");
    const where = this.world.locate(channelId);
    if (!where) throw new Error(`fake Discord: no channel ${channelId}`);
    const inGuild = where.kind === "guild" ? where.guild : undefined;
    const command = this.commands.find(input.name, inGuild?.id);
    if (!command)
      throw new Error(`fake Discord: /${input.name} is not registered; Discord could not invoke it`);

    const options: Record<string, unknown>[] = [];
    const attachments: Record<string, APIAttachment> = {};
    for (const [name, value] of Object.entries(input.options ?? {})) {
      const declared = command.options?.find((o) => o.name === name);
      if (!declared) throw new Error(`fake Discord: /${input.name} has no option ${name}`);
      if (typeof value === "object") {
        attachments[value.id] = value;
        options.push({ name, type: declared.type, value: value.id });
      } else {
        options.push({ name, type: declared.type, value });
      }
    }
    for (const o of command.options ?? []) {
      if ("required" in o && o.required && !(o.name in (input.options ?? {}))) {
        throw new Error(`fake Discord: /${input.name} needs option ${o.name}; Discord would not send it`);
      }
    }

    const id = this.world.ids.next();
    const token = `aW50ZXJhY3Rpb24${randomBytes(24).toString("base64url")}`;
    const perms = this.world.botPermissions(channelId).toString();
    const data: Record<string, unknown> = { id: command.id, name: command.name, type: 1, options };
    if (Object.keys(attachments).length > 0) data.resolved = { attachments };
    if (command.guild_id) data.guild_id = command.guild_id;
    const payload: Record<string, unknown> = {
      id,
      application_id: this.world.applicationId,
      type: 2,
      token,
      version: 1,
      data,
      app_permissions: perms,
      locale: "en-US",
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
      channel_id: channelId,
    };
    if (inGuild && where.kind === "guild") {
      const member = inGuild.members.get(user.id);
      payload.guild_id = inGuild.id;
      payload.guild = { id: inGuild.id, locale: "en-US", features: [] };
      payload.guild_locale = "en-US";
      payload.channel = { ...where.channel };
      payload.member = {
        ...member,
        user,
        permissions: this.world.permissionsOf(user.id, channelId).toString(),
      };
      payload.authorizing_integration_owners = { "0": inGuild.id };
      payload.context = 0;
    } else {
      payload.channel = { id: channelId, type: 1, recipients: [user], last_message_id: null, flags: 0 };
      payload.user = user;
      payload.authorizing_integration_owners = { "0": "0" };
      payload.context = 1;
    }
    const state: InteractionState = { id, token, channelId, user, createdAt: Date.now(), payload };
    if (inGuild) state.guildId = inGuild.id;
    this.#byId.set(id, state);
    this.#byToken.set(token, state);
    await this.gateway.dispatch("INTERACTION_CREATE", payload);
    return state;
  }

  routes(): Route<Endpoint>[] {
    return [
      route("POST", "/interactions/:interactionId/:token/callback", {
        auth: false,
        run: (r) => this.#callback(r),
      }),
      route("POST", "/webhooks/:appId/:token", { auth: false, run: (r) => this.#followUp(r) }),
      route("GET", "/webhooks/:appId/:token/messages/:messageId", {
        auth: false,
        run: (r) => this.#fetch(r),
      }),
      route("PATCH", "/webhooks/:appId/:token/messages/:messageId", {
        auth: false,
        run: (r) => this.#edit(r),
      }),
    ];
  }

  #callback(req: HandlerRequest) {
    const state = this.#byId.get(req.params.interactionId ?? "");
    if (!state || state.token !== req.params.token) throw errors.unknownInteraction();
    const body = (req.json ?? {}) as { type?: number; data?: Record<string, unknown> };
    const type = body.type ?? 0;
    const late = Date.now() - state.createdAt > this.deadlineMs;
    this.callbacks.push({ interactionId: state.id, type, json: req.json, late });
    if (late) throw errors.unknownInteraction();
    if (state.acknowledged !== undefined) throw errors.alreadyAcknowledged();
    const flags = typeof body.data?.flags === "number" ? body.data.flags : 0;
    let message: APIMessage | undefined;
    if (type === 4) {
      message = this.writer.create({
        channelId: state.channelId,
        json: body.data,
        files: req.files,
        via: "interaction",
        interactionId: state.id,
        extra: this.#extra(state, 20),
      }).message;
    } else if (type === 5) {
      message = this.writer.placeholder(state.channelId, flags | 128, this.#extra(state, 20));
    } else if (type !== 9) {
      throw errors.invalidForm(
        ["type"],
        "BASE_TYPE_CHOICES",
        `fake Discord: callback type ${type} not supported`,
      );
    }
    state.acknowledged = type;
    if (message) {
      state.originalMessageId = message.id;
      if ((flags & 64) === 0) void this.gateway.dispatchMessage("MESSAGE_CREATE", message.id);
    }
    if (req.query.get("with_response") !== "true") return noContent;
    return ok({
      interaction: {
        id: state.id,
        type: 2,
        response_message_id: message?.id,
        response_message_loading: type === 5,
        response_message_ephemeral: (flags & 64) !== 0,
      },
      resource: { type, ...(message ? { message } : {}) },
    });
  }

  #followUp(req: HandlerRequest) {
    const state = this.#webhook(req);
    const result = this.writer.create({
      channelId: state.channelId,
      json: req.json,
      files: req.files,
      via: "interaction",
      interactionId: state.id,
      extra: this.#extra(state, 0),
    });
    const flags = result.message.flags ?? 0;
    if ((flags & 64) === 0) void this.gateway.dispatchMessage("MESSAGE_CREATE", result.message.id);
    return req.query.get("wait") === "true" ? ok(result.message) : noContent;
  }

  #fetch(req: HandlerRequest) {
    const state = this.#webhook(req);
    const message = this.world.render(this.#messageId(state, req.params.messageId));
    if (!message) throw errors.unknownMessage();
    return ok(message);
  }

  #edit(req: HandlerRequest) {
    const state = this.#webhook(req);
    const id = this.#messageId(state, req.params.messageId);
    const result = this.writer.edit(id, {
      channelId: state.channelId,
      json: req.json,
      files: req.files,
      via: "interaction",
      interactionId: state.id,
    });
    void this.gateway.dispatchMessage("MESSAGE_UPDATE", id);
    return ok(result.message);
  }

  #webhook(req: HandlerRequest): InteractionState {
    const state = this.#byToken.get(req.params.token ?? "");
    if (!state || req.params.appId !== this.world.applicationId) throw errors.unknownWebhook();
    // Discord only opens the webhook once the interaction was acknowledged.
    if (state.acknowledged === undefined) throw errors.unknownWebhook();
    return state;
  }

  #messageId(state: InteractionState, param: string | undefined): string {
    const id = param === "@original" ? state.originalMessageId : param;
    if (id === undefined) throw errors.unknownMessage();
    return id;
  }

  #extra(state: InteractionState, type: 0 | 20): Partial<APIMessage> {
    return {
      type,
      webhook_id: this.world.applicationId,
      application_id: this.world.applicationId,
      interaction_metadata: {
        id: state.id,
        type: 2,
        user: state.user,
        authorizing_integration_owners: state.payload.authorizing_integration_owners as Record<
          string,
          string
        >,
      },
    } as Partial<APIMessage>;
  }
}
