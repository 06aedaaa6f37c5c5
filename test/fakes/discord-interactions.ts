/**
 * Interactions: INTERACTION_CREATE payloads for slash commands (built from the registered command,
 * so option types and `resolved.attachments` match what Discord would send), message context-menu
 * commands, button presses and modal submits; the callback endpoint
 * (`POST /interactions/{id}/{token}/callback`) with Discord's 3-second acknowledgement window and
 * the response types each interaction allows (4, 5, 6, 7, 9); and the interaction webhook
 * (follow-ups, @original edits). These routes are called without a bot token, as discord.js does.
 */
import { randomBytes } from "node:crypto";
import type { APIAttachment, APIMessage, APIUser } from "discord.js";
import type { CommandRegistry } from "./discord-commands.js";
import { buttonIds, type ModalDefinition, submittedComponents, validateModal } from "./discord-components.js";
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

export interface MessageCommandInput {
  /** A registered message command, e.g. `Edit with Seedream`. */
  name: string;
  /** The message it is run on. */
  messageId: string;
  user?: string;
}

export interface ButtonPressInput {
  messageId: string;
  customId: string;
  /** Username of who presses; default `alice`. */
  user?: string;
}

export interface ModalSubmitInput {
  /** The interaction that answered with the modal (callback type 9). */
  modalOf: string;
  /** Text by text-input custom_id; true/false by checkbox custom_id. */
  values: Record<string, string | boolean>;
}

export interface InteractionState {
  id: string;
  /** 2 application command, 3 message component, 5 modal submit. */
  type: 2 | 3 | 5;
  token: string;
  channelId: string;
  guildId?: string;
  user: APIUser;
  createdAt: number;
  /** Callback type once acknowledged (4 reply, 5 deferred, 6 deferred update, 7 update, 9 modal). */
  acknowledged?: number;
  /** The message the component sits on (component presses, modals opened from one). */
  messageId?: string;
  /** The modal shown in answer (callback type 9). */
  modal?: ModalDefinition;
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

  /** Builds the INTERACTION_CREATE Discord would send for a slash command and dispatches it. */
  async invoke(input: SlashCommandInput): Promise<InteractionState> {
    const user = this.world.user(input.user ?? "alice");
    const channelId =
      input.dm === true ? this.world.dmWith(user.id).id : (input.channelId ?? this.#firstChannel());
    const command = this.commands.find(input.name, this.#guildOf(channelId), 1);
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
    const data: Record<string, unknown> = { id: command.id, name: command.name, type: 1, options };
    if (Object.keys(attachments).length > 0) data.resolved = { attachments };
    if (command.guild_id) data.guild_id = command.guild_id;
    return this.#dispatch(2, user, channelId, data);
  }

  /**
   * A message context-menu command (e.g. "Edit with Seedream") run on `messageId`. Discord hands
   * the app the whole target message in `resolved.messages`, content and attachments included,
   * whether or not the bot has the Message Content intent.
   */
  async invokeMessageCommand(input: MessageCommandInput): Promise<InteractionState> {
    const user = this.world.user(input.user ?? "alice");
    const target = this.world.render(input.messageId);
    if (!target) throw new Error(`fake Discord: no message ${input.messageId}`);
    const command = this.commands.find(input.name, this.#guildOf(target.channel_id), 3);
    if (!command) throw new Error(`fake Discord: message command "${input.name}" is not registered`);
    const data: Record<string, unknown> = {
      id: command.id,
      name: command.name,
      type: 3,
      target_id: target.id,
      resolved: { messages: { [target.id]: target } },
    };
    if (command.guild_id) data.guild_id = command.guild_id;
    return this.#dispatch(2, user, target.channel_id, data);
  }

  /** A press of the button `customId` on `messageId` (MESSAGE_COMPONENT); it must exist on that message. */
  async pressButton(input: ButtonPressInput): Promise<InteractionState> {
    const user = this.world.user(input.user ?? "alice");
    const message = this.world.render(input.messageId);
    if (!message) throw new Error(`fake Discord: no message ${input.messageId}`);
    const ids = buttonIds(message.components);
    if (!ids.includes(input.customId)) {
      throw new Error(
        `fake Discord: message ${input.messageId} has no button ${input.customId} (has ${ids.join(", ") || "none"})`,
      );
    }
    const data = { custom_id: input.customId, component_type: 2 };
    return this.#dispatch(3, user, message.channel_id, data, message);
  }

  /**
   * Submits the modal that interaction `modalOf` answered with (callback type 9), as the user who
   * was shown it, with `values` by field custom_id (MODAL_SUBMIT). A modal opened from a button
   * carries that button's message, as Discord sends it.
   */
  async submitModal(input: ModalSubmitInput): Promise<InteractionState> {
    const opener = this.#byId.get(input.modalOf);
    if (!opener?.modal) throw new Error(`fake Discord: interaction ${input.modalOf} showed no modal`);
    const data = {
      custom_id: opener.modal.customId,
      components: submittedComponents(opener.modal, input.values),
    };
    const message = opener.messageId === undefined ? undefined : this.world.render(opener.messageId);
    return this.#dispatch(5, opener.user, opener.channelId, data, message);
  }

  #firstChannel(): string {
    return this.world.guilds[0]?.channels[0]?.id ?? "";
  }

  #guildOf(channelId: string): string | undefined {
    const where = this.world.locate(channelId);
    if (!where) throw new Error(`fake Discord: no channel ${channelId}`);
    return where.kind === "guild" ? where.guild.id : undefined;
  }

  /** The fields every INTERACTION_CREATE carries, then the dispatch. */
  async #dispatch(
    type: 2 | 3 | 5,
    user: APIUser,
    channelId: string,
    data: Record<string, unknown>,
    message?: APIMessage,
  ): Promise<InteractionState> {
    const where = this.world.locate(channelId);
    if (!where) throw new Error(`fake Discord: no channel ${channelId}`);
    const id = this.world.ids.next();
    const token = `aW50ZXJhY3Rpb24${randomBytes(24).toString("base64url")}`;
    const payload: Record<string, unknown> = {
      id,
      application_id: this.world.applicationId,
      type,
      token,
      version: 1,
      data,
      app_permissions: this.world.botPermissions(channelId).toString(),
      locale: "en-US",
      entitlements: [],
      attachment_size_limit: 10 * 1024 * 1024,
      channel_id: channelId,
    };
    if (message) payload.message = message;
    if (where.kind === "guild") {
      const member = where.guild.members.get(user.id);
      payload.guild_id = where.guild.id;
      payload.guild = { id: where.guild.id, locale: "en-US", features: [] };
      payload.guild_locale = "en-US";
      payload.channel = { ...where.channel };
      payload.member = {
        ...member,
        user,
        permissions: this.world.permissionsOf(user.id, channelId).toString(),
      };
      payload.authorizing_integration_owners = { "0": where.guild.id };
      payload.context = 0;
    } else {
      payload.channel = { id: channelId, type: 1, recipients: [user], last_message_id: null, flags: 0 };
      payload.user = user;
      payload.authorizing_integration_owners = { "0": "0" };
      payload.context = 1;
    }
    const state: InteractionState = { id, type, token, channelId, user, createdAt: Date.now(), payload };
    if (where.kind === "guild") state.guildId = where.guild.id;
    if (message) state.messageId = message.id;
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
    const onMessage = state.messageId !== undefined && (state.type === 3 || state.type === 5);
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
    } else if ((type === 6 || type === 7) && onMessage) {
      // The "original response" of a component interaction is the message the component is on.
      if (type === 7) {
        this.writer.edit(state.messageId as string, {
          channelId: state.channelId,
          json: body.data,
          files: req.files,
          via: "interaction",
          interactionId: state.id,
        });
        void this.gateway.dispatchMessage("MESSAGE_UPDATE", state.messageId as string);
      }
      state.originalMessageId = state.messageId;
    } else if (type === 9 && state.type !== 5) {
      state.modal = validateModal(body.data);
    } else {
      throw errors.invalidForm(
        ["type"],
        "INTERACTION_RESPONSE_TYPE_INVALID",
        `fake Discord: callback type ${type} is not valid for an interaction of type ${state.type}`,
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
        type: state.type,
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
        type: state.type,
        user: state.user,
        authorizing_integration_owners: state.payload.authorizing_integration_owners as Record<
          string,
          string
        >,
      },
    } as Partial<APIMessage>;
  }
}
