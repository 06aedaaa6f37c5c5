/**
 * Messages the bot creates or edits, through a channel or an interaction webhook: validated
 * against Discord's limits, uploads hosted on the fake CDN, pings resolved per allowed_mentions,
 * and recorded for tests with the uploaded bytes.
 */
import type { APIMessage } from "discord.js";
import type { FakeCdn } from "./discord-cdn.js";
import { validateMessageComponents } from "./discord-components.js";
import { ApiError, errors, type RecordedFile } from "./discord-http.js";
import { type AllowedMentions, type Pings, resolvePings } from "./discord-mentions.js";
import { Permission } from "./discord-permissions.js";
import { Recorder } from "./discord-recorder.js";
import type { StoredMessage, World } from "./discord-state.js";

export interface PostedAttachment {
  id: string;
  filename: string;
  /** Alt text. */
  description?: string;
  contentType: string;
  bytes: Buffer;
  url: string;
}

export interface PostedMessage {
  seq: number;
  kind: "create" | "edit";
  /** `channel`: POST/PATCH /channels/..; `interaction`: callback or webhook of an interaction. */
  via: "channel" | "interaction";
  messageId: string;
  channelId: string;
  content: string;
  /** The message's attachments after this request. */
  attachments: PostedAttachment[];
  /** The attachments whose bytes came with this request. */
  uploads: PostedAttachment[];
  /** `message_reference.message_id` of a reply. */
  replyTo?: string;
  /** `allowed_mentions` exactly as sent (undefined when absent). */
  allowedMentions?: AllowedMentions;
  /** Who the message actually pings. */
  pings: Pings;
  flags: number;
  /** The message's components (action rows of buttons) after this request. */
  components: unknown[];
  interactionId?: string;
  json: unknown;
}

export interface MessageLimits {
  uploadLimitBytes: number;
}

interface Body {
  content?: unknown;
  attachments?: { id?: unknown; description?: unknown; filename?: unknown }[];
  message_reference?: {
    message_id?: string;
    channel_id?: string;
    fail_if_not_exists?: boolean;
    type?: number;
  };
  allowed_mentions?: AllowedMentions;
  flags?: number;
  embeds?: unknown[];
  components?: unknown[];
  sticker_ids?: unknown[];
  poll?: unknown;
  nonce?: string | number;
}

export interface WriteInput {
  channelId: string;
  json: unknown;
  files: RecordedFile[];
  via: PostedMessage["via"];
  interactionId?: string;
  /** Extra fields for interaction messages (webhook_id, interaction_metadata, type). */
  extra?: Partial<APIMessage>;
}

export class MessageWriter {
  readonly created = new Recorder<PostedMessage>("bot messages", describe);
  readonly edited = new Recorder<PostedMessage>("bot edits", describe);
  #seq = 0;

  constructor(
    private readonly world: World,
    private readonly cdn: FakeCdn,
    private readonly limits: MessageLimits,
  ) {}

  create(input: WriteInput): { message: APIMessage; posted: PostedMessage } {
    const body = asBody(input.json);
    const reference = this.#reference(input.channelId, body);
    const uploads = this.#validate(input.channelId, body, input.files, 0);
    if (!hasVisibleContent(body, uploads.length)) throw errors.emptyMessage();
    const stored = this.#newBotMessage(input.channelId, {
      content: typeof body.content === "string" ? body.content : "",
      type: reference === undefined ? 0 : 19,
      flags: body.flags ?? 0,
      ...(body.components === undefined ? {} : { components: body.components as APIMessage["components"] }),
      ...(body.nonce === undefined ? {} : { nonce: body.nonce }),
      ...(reference === undefined
        ? {}
        : { message_reference: { type: 0, message_id: reference, channel_id: input.channelId } }),
      ...input.extra,
    });
    stored.attachmentIds = uploads.map((u) => u.id);
    const { id } = stored.data;
    if (reference !== undefined) stored.referencedId = reference;
    const pings = this.#applyPings(stored, body.allowed_mentions);
    this.world.store(stored);
    const message = this.world.render(id) as APIMessage;
    const posted = this.#record("create", input, stored, uploads, body, pings);
    this.created.push(posted);
    return { message, posted };
  }

  /** The "is thinking…" original response a deferred interaction gets; not a post by the bot's code. */
  placeholder(channelId: string, flags: number, extra: Partial<APIMessage>): APIMessage {
    const stored = this.#newBotMessage(channelId, { content: "", type: 20, flags, ...extra });
    this.world.store(stored);
    return this.world.render(stored.data.id) as APIMessage;
  }

  /** A message authored by the bot, with Discord's defaults, not yet stored. */
  #newBotMessage(channelId: string, fields: Partial<APIMessage>): StoredMessage {
    const stored: StoredMessage = {
      data: {
        id: this.world.ids.next(),
        channel_id: channelId,
        author: this.world.bot,
        content: "",
        timestamp: new Date().toISOString(),
        edited_timestamp: null,
        tts: false,
        mention_everyone: false,
        mentions: [],
        mention_roles: [],
        embeds: [],
        pinned: false,
        type: 0,
        flags: 0 as APIMessage["flags"],
        components: [],
        ...fields,
      },
      attachmentIds: [],
    };
    const location = this.world.locate(channelId);
    if (location?.kind === "guild") stored.guildId = location.guild.id;
    return stored;
  }

  edit(messageId: string, input: WriteInput): { message: APIMessage; posted: PostedMessage } {
    const stored = this.world.messages.get(messageId);
    if (!stored || stored.data.channel_id !== input.channelId) throw errors.unknownMessage();
    if (stored.data.author.id !== this.world.bot.id) throw errors.notAuthor();
    const body = asBody(input.json);
    const kept =
      body.attachments === undefined
        ? stored.attachmentIds
        : stored.attachmentIds.filter((a) => body.attachments?.some((b) => String(b.id) === a));
    const uploads = this.#validate(input.channelId, body, input.files, kept.length);
    const content = typeof body.content === "string" ? body.content : stored.data.content;
    const attachmentIds = [...kept, ...uploads.map((u) => u.id)];
    if (!hasVisibleContent({ ...body, content }, attachmentIds.length)) throw errors.emptyMessage();
    stored.data.content = content;
    stored.attachmentIds = attachmentIds;
    // Components are replaced when sent (an empty array removes them), kept otherwise.
    if (body.components !== undefined) stored.data.components = body.components as APIMessage["components"];
    // A deferred interaction reply stops "thinking" once it is edited.
    stored.data.flags = (body.flags ?? stored.data.flags ?? 0) & ~128;
    stored.data.edited_timestamp = new Date().toISOString();
    const pings = this.#applyPings(stored, body.allowed_mentions);
    const message = this.world.render(messageId) as APIMessage;
    const posted = this.#record("edit", input, stored, uploads, body, pings);
    this.edited.push(posted);
    return { message, posted };
  }

  #reference(channelId: string, body: Body): string | undefined {
    const ref = body.message_reference;
    if (ref?.message_id === undefined || (ref.type !== undefined && ref.type !== 0)) return undefined;
    const target = this.world.messages.get(ref.message_id);
    const sameChannel = target !== undefined && target.data.channel_id === (ref.channel_id ?? channelId);
    if (sameChannel) return ref.message_id;
    if (ref.fail_if_not_exists === false) return undefined;
    throw errors.invalidForm(["message_reference"], "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message");
  }

  #validate(channelId: string, body: Body, files: RecordedFile[], keptCount: number): PostedAttachment[] {
    validateMessageComponents(body.components);
    if (body.content !== undefined && typeof body.content !== "string") {
      throw errors.invalidForm(["content"], "BASE_TYPE_STRING", "Must be a string.");
    }
    if (typeof body.content === "string" && body.content.length > 2000) {
      throw errors.invalidForm(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
    }
    if (files.length + keptCount > 10) {
      throw errors.invalidForm(["attachments"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
    }
    (body.attachments ?? []).forEach((a, i) => {
      if (typeof a.description === "string" && a.description.length > 1024) {
        throw errors.invalidForm(
          ["attachments", i, "description"],
          "BASE_TYPE_MAX_LENGTH",
          "Must be 1024 or fewer in length.",
        );
      }
    });
    for (const file of files) {
      if (file.bytes.length > this.limits.uploadLimitBytes) throw errors.tooLarge();
    }
    return files.map((file) => {
      const index = /^files\[(\d+)\]$/.exec(file.field)?.[1];
      const meta = body.attachments?.find((a) => String(a.id) === index);
      const description = typeof meta?.description === "string" ? meta.description : undefined;
      const filename = typeof meta?.filename === "string" ? meta.filename : file.filename;
      const hosted = this.cdn.host({
        name: filename,
        bytes: file.bytes,
        contentType: file.contentType,
        channelId,
        ...(description === undefined ? {} : { description }),
      });
      const attachment = this.cdn.attachment(hosted.id);
      return {
        id: hosted.id,
        filename: hosted.filename,
        contentType: hosted.contentType,
        bytes: hosted.bytes,
        url: attachment.url,
        ...(description === undefined ? {} : { description }),
      };
    });
  }

  #applyPings(stored: StoredMessage, allowed: AllowedMentions | undefined): Pings {
    const replied =
      stored.referencedId === undefined ? undefined : this.world.messages.get(stored.referencedId);
    const guild = this.world.guilds.find((g) => g.id === stored.guildId);
    const pings = resolvePings(
      {
        content: stored.data.content,
        ...(replied ? { repliedUserId: replied.data.author.id } : {}),
        canMentionEveryone:
          (this.world.botPermissions(stored.data.channel_id) & Permission.MentionEveryone) !== 0n &&
          guild !== undefined,
        knownUser: (id) => this.world.userById(id) !== undefined,
        knownRole: (id) => guild?.roles.some((r) => r.id === id) ?? false,
      },
      allowed,
    );
    stored.data.mentions = pings.users.flatMap((id) => {
      const user = this.world.userById(id);
      return user ? [user] : [];
    });
    stored.data.mention_roles = pings.roles;
    stored.data.mention_everyone = pings.everyone;
    return pings;
  }

  #record(
    kind: PostedMessage["kind"],
    input: WriteInput,
    stored: StoredMessage,
    uploads: PostedAttachment[],
    body: Body,
    pings: Pings,
  ): PostedMessage {
    const attachments = stored.attachmentIds.map((id): PostedAttachment => {
      const file = this.cdn.get(id);
      if (!file) throw new ApiError(500, 0, `fake Discord lost attachment ${id}`);
      const posted: PostedAttachment = {
        id,
        filename: file.filename,
        contentType: file.contentType,
        bytes: file.bytes,
        url: this.cdn.attachment(id).url,
      };
      if (file.description !== undefined) posted.description = file.description;
      return posted;
    });
    const posted: PostedMessage = {
      seq: ++this.#seq,
      kind,
      via: input.via,
      messageId: stored.data.id,
      channelId: stored.data.channel_id,
      content: stored.data.content,
      attachments,
      uploads,
      pings,
      flags: stored.data.flags ?? 0,
      components: structuredClone((stored.data.components ?? []) as unknown[]),
      json: input.json,
    };
    if (stored.referencedId !== undefined) posted.replyTo = stored.referencedId;
    if (body.allowed_mentions !== undefined) posted.allowedMentions = body.allowed_mentions;
    if (input.interactionId !== undefined) posted.interactionId = input.interactionId;
    return posted;
  }
}

function asBody(json: unknown): Body {
  return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Body) : {};
}

function hasVisibleContent(body: Body, attachmentCount: number): boolean {
  return (
    (typeof body.content === "string" && body.content.trim() !== "") ||
    attachmentCount > 0 ||
    (body.embeds?.length ?? 0) > 0 ||
    (body.components?.length ?? 0) > 0 ||
    (body.sticker_ids?.length ?? 0) > 0 ||
    body.poll !== undefined
  );
}

function describe(p: PostedMessage): string {
  const files = p.attachments.map((a) => `${a.filename}(${a.bytes.length}B)`).join(", ");
  return `${p.kind} ${p.messageId} via ${p.via} in ${p.channelId}: ${JSON.stringify(p.content)} [${files}]`;
}
