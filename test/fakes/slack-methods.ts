/**
 * The fake workspace's state and its Web API methods. Each method validates like Slack does
 * (same error codes, same response shapes) so the adapter meets realistic failures in tests.
 */
import { invalidBlocks, validateMessageBlocks, validateView } from "./slack-blocks.js";
import type { FileHost } from "./slack-files.js";
import type { SlackRecorder } from "./slack-recorder.js";
import { jsonField, type Params, randomId, SlackApiError, str, type TsClock } from "./slack-wire.js";

export { SlackApiError } from "./slack-wire.js";

export interface StoredMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown[];
  user: string;
  botId?: string;
  /** How many chat.update calls changed it. */
  edits: number;
}

export interface ChannelInfo {
  id: string;
  name: string;
  isPrivate: boolean;
  /** Whether the bot is a member; false makes chat.* and file sharing answer `not_in_channel`. */
  isMember: boolean;
}

interface PendingUpload {
  fileId: string;
  filename: string;
  length: number;
  altText?: string;
  altTextField?: "alt_txt" | "alt_text";
  bytes?: Buffer;
  contentType?: string;
}

export interface Identity {
  teamId: string;
  teamDomain: string;
  botUserId: string;
  botId: string;
  appId: string;
}

const REQUIRED_SCOPE: Record<string, (args: Params) => string | undefined> = {
  "chat.postMessage": () => "chat:write",
  "chat.update": () => "chat:write",
  "chat.postEphemeral": () => "chat:write",
  "files.getUploadURLExternal": () => "files:write",
  "files.completeUploadExternal": () => "files:write",
  "files.info": () => "files:read",
  "users.info": () => "users:read",
  "conversations.info": (a) => (String(a.channel ?? "").startsWith("G") ? "groups:read" : "channels:read"),
};

/** How long a trigger_id may be used to open a view (Slack: 3 seconds). */
export const TRIGGER_TTL_MS = 3000;

export interface UserInfo {
  id: string;
  name: string;
  isAdmin: boolean;
  isOwner: boolean;
}

export const MAX_TEXT = 40_000;
export const MAX_BLOCKS = 50;

export class SlackWorkspace {
  readonly messages = new Map<string, StoredMessage>();
  readonly channels = new Map<string, ChannelInfo>();
  private readonly pending = new Map<string, PendingUpload>();
  private readonly uploadKeys = new Map<string, string>();
  /** trigger_id → when Slack issued it (with a press, a slash command or a shortcut). */
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  readonly users = new Map<string, UserInfo>();
  /** How many more messages with an image block are refused with `invalid_blocks` ("invalid slack file"). */
  imageBlockRefusals = 0;

  constructor(
    private readonly id: Identity,
    private readonly files: FileHost,
    private readonly recorder: SlackRecorder,
    private readonly clock: TsClock,
    private readonly nextSeq: () => number,
    readonly scopes: Set<string>,
    private readonly baseUrl: () => string,
  ) {}

  channel(id: string): ChannelInfo {
    let info = this.channels.get(id);
    if (!info) {
      info = { id, name: `channel-${id.toLowerCase()}`, isPrivate: id.startsWith("G"), isMember: true };
      this.channels.set(id, info);
    }
    return info;
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.get(`${channel}:${ts}`);
  }

  storeMessage(message: Omit<StoredMessage, "edits">): StoredMessage {
    const stored = { ...message, edits: 0 };
    this.messages.set(`${message.channel}:${message.ts}`, stored);
    return stored;
  }

  checkScope(method: string, args: Params): void {
    const needed = REQUIRED_SCOPE[method]?.(args);
    if (needed && !this.scopes.has(needed)) {
      throw new SlackApiError("missing_scope", { needed, provided: [...this.scopes].join(",") });
    }
  }

  call(method: string, args: Params): Params {
    switch (method) {
      case "auth.test":
        return {
          url: `https://${this.id.teamDomain}.slack.com/`,
          team: "Fake Workspace",
          user: "seedream",
          team_id: this.id.teamId,
          user_id: this.id.botUserId,
          bot_id: this.id.botId,
          is_enterprise_install: false,
        };
      case "chat.postMessage":
        return this.postMessage(args);
      case "chat.update":
        return this.update(args);
      case "chat.postEphemeral":
        return this.postEphemeral(args);
      case "files.getUploadURLExternal":
        return this.getUploadUrl(args);
      case "files.completeUploadExternal":
        return this.completeUpload(args);
      case "views.open":
        return this.openView(args);
      case "users.info": {
        const user = this.users.get(str(args.user) ?? "");
        if (!user) throw new SlackApiError("user_not_found");
        return {
          user: {
            id: user.id,
            team_id: this.id.teamId,
            name: user.name,
            deleted: false,
            real_name: user.name,
            is_admin: user.isAdmin,
            is_owner: user.isOwner,
            is_primary_owner: false,
            is_restricted: false,
            is_ultra_restricted: false,
            is_bot: false,
            is_app_user: false,
            updated: this.clock.nowSeconds(),
          },
        };
      }
      case "files.info": {
        const file = this.files.get(str(args.file) ?? "");
        if (!file) throw new SlackApiError("file_not_found");
        return { file: structuredClone(file.object), comments: [], response_metadata: { next_cursor: "" } };
      }
      case "conversations.info": {
        const id = str(args.channel);
        if (!id) throw new SlackApiError("channel_not_found");
        const c = this.channel(id);
        return {
          channel: {
            id: c.id,
            name: c.name,
            is_channel: !c.isPrivate,
            is_group: c.isPrivate,
            is_im: false,
            is_private: c.isPrivate,
            is_archived: false,
            is_member: c.isMember,
            created: this.clock.nowSeconds(),
          },
        };
      }
      default:
        throw new SlackApiError("unknown_method");
    }
  }

  private blocksOf(args: Params): unknown[] | undefined {
    if (args.blocks === undefined) return undefined;
    let blocks: unknown;
    try {
      blocks = jsonField(args.blocks);
    } catch {
      throw new SlackApiError("invalid_blocks_format");
    }
    if (!Array.isArray(blocks)) throw new SlackApiError("invalid_blocks_format");
    if (blocks.length > MAX_BLOCKS)
      throw new SlackApiError("invalid_blocks", { errors: ["too many blocks"] });
    validateMessageBlocks(blocks, { fileUsable: (id) => this.files.get(id) !== undefined });
    // Slack gives every block without a block_id one of its own (interaction payloads carry it).
    for (const block of blocks) {
      if (typeof block === "object" && block !== null && !("block_id" in block)) {
        Object.assign(block, { block_id: randomId("", 5) });
      }
    }
    const imageAt = blocks.findIndex((b) => (b as { type?: unknown } | null)?.type === "image");
    if (imageAt >= 0 && this.imageBlockRefusals > 0) {
      // What Slack answers for a file it has not finished processing (or won't show in a block).
      this.imageBlockRefusals -= 1;
      throw invalidBlocks("invalid slack file", `/blocks/${imageAt}/slack_file`);
    }
    return blocks;
  }

  private contentOf(args: Params): { text?: string; blocks?: unknown[] } {
    const text = str(args.text);
    const blocks = this.blocksOf(args);
    if (text === undefined && blocks === undefined && args.attachments === undefined) {
      throw new SlackApiError("no_text");
    }
    if (text !== undefined && text.length > MAX_TEXT) throw new SlackApiError("msg_too_long");
    return { text, blocks };
  }

  private memberChannel(args: Params, field = "channel"): ChannelInfo {
    const id = str(args[field]);
    if (!id) throw new SlackApiError("channel_not_found");
    const info = this.channel(id);
    if (!info.isMember) throw new SlackApiError("not_in_channel");
    return info;
  }

  /** A stored message as Slack shows it inside an interaction payload (`message`). */
  messagePayload(channel: string, ts: string): Params | undefined {
    const stored = this.message(channel, ts);
    if (!stored) return undefined;
    if (stored.user === this.id.botUserId) return this.botMessage(stored);
    const out: Params = {
      type: "message",
      user: stored.user,
      ts: stored.ts,
      text: stored.text ?? "",
      team: this.id.teamId,
    };
    if (stored.threadTs) out.thread_ts = stored.threadTs;
    return out;
  }

  private botMessage(m: StoredMessage): Params {
    const out: Params = { user: this.id.botUserId, type: "message", ts: m.ts, bot_id: this.id.botId };
    Object.assign(out, { app_id: this.id.appId, text: m.text ?? "", team: this.id.teamId });
    if (m.blocks) out.blocks = m.blocks;
    if (m.threadTs) Object.assign(out, { thread_ts: m.threadTs, parent_user_id: this.parentUser(m) });
    return out;
  }

  private parentUser(m: StoredMessage): string | undefined {
    return m.threadTs ? this.message(m.channel, m.threadTs)?.user : undefined;
  }

  private postMessage(args: Params): Params {
    const channel = this.memberChannel(args);
    const content = this.contentOf(args);
    const ts = this.clock.next();
    const threadTs = str(args.thread_ts);
    const stored = this.storeMessage({
      channel: channel.id,
      ts,
      threadTs,
      ...content,
      user: this.id.botUserId,
    });
    stored.botId = this.id.botId;
    this.recorder.add({
      kind: "message",
      seq: this.nextSeq(),
      channel: channel.id,
      ts,
      threadTs,
      ...content,
      args,
    });
    return { channel: channel.id, ts, message: this.botMessage(stored) };
  }

  private update(args: Params): Params {
    const channel = str(args.channel);
    const ts = str(args.ts);
    if (!channel) throw new SlackApiError("channel_not_found");
    const stored = ts ? this.message(channel, ts) : undefined;
    if (!stored || !ts) throw new SlackApiError("message_not_found");
    if (stored.user !== this.id.botUserId) throw new SlackApiError("cant_update_message");
    const content = this.contentOf(args);
    stored.text = content.text;
    if (content.blocks !== undefined) stored.blocks = content.blocks;
    stored.edits += 1;
    this.recorder.add({ kind: "update", seq: this.nextSeq(), channel, ts, ...content, args });
    return { channel, ts, text: stored.text ?? "", message: this.botMessage(stored) };
  }

  private postEphemeral(args: Params): Params {
    const channel = this.memberChannel(args);
    const user = str(args.user);
    if (!user) throw new SlackApiError("user_not_in_channel");
    const content = this.contentOf(args);
    const messageTs = this.clock.next();
    const threadTs = str(args.thread_ts);
    this.recorder.add({
      kind: "ephemeral",
      seq: this.nextSeq(),
      channel: channel.id,
      user,
      threadTs,
      ...content,
      messageTs,
      args,
    });
    return { message_ts: messageTs };
  }

  /** A trigger_id as Slack puts in an interaction payload; valid for one views.open within 3 s. */
  issueTrigger(): string {
    const id = `${Date.now()}.${randomId("", 12)}.${randomId("", 32).toLowerCase()}`;
    this.triggers.set(id, { issuedAt: Date.now(), used: false });
    return id;
  }

  private openView(args: Params): Params {
    const triggerId = str(args.trigger_id);
    const trigger = triggerId === undefined ? undefined : this.triggers.get(triggerId);
    if (!triggerId || !trigger) throw new SlackApiError("invalid_trigger_id");
    if (trigger.used || Date.now() - trigger.issuedAt > TRIGGER_TTL_MS)
      throw new SlackApiError("expired_trigger_id");
    let view: unknown;
    try {
      view = jsonField(args.view);
    } catch {
      throw new SlackApiError("invalid_arguments");
    }
    if (typeof view !== "object" || view === null || Array.isArray(view))
      throw new SlackApiError("invalid_arguments");
    const json = view as Params;
    const inputs = validateView(json);
    trigger.used = true;
    const viewId = randomId("V0", 9);
    const opened: Params = {
      id: viewId,
      team_id: this.id.teamId,
      type: "modal",
      blocks: json.blocks ?? [],
      private_metadata: str(json.private_metadata) ?? "",
      callback_id: str(json.callback_id) ?? "",
      state: { values: {} },
      hash: `${this.clock.nowSeconds()}.${randomId("", 8)}`,
      title: json.title,
      clear_on_close: json.clear_on_close === true,
      notify_on_close: json.notify_on_close === true,
      close: json.close ?? null,
      submit: json.submit ?? null,
      previous_view_id: null,
      root_view_id: viewId,
      app_id: this.id.appId,
      external_id: str(json.external_id) ?? "",
      app_installed_team_id: this.id.teamId,
      bot_id: this.id.botId,
    };
    this.recorder.add({ kind: "view", seq: this.nextSeq(), viewId, triggerId, view: opened, inputs });
    return { view: opened };
  }

  private getUploadUrl(args: Params): Params {
    const filename = str(args.filename);
    const length = Number(args.length);
    if (!filename || !Number.isInteger(length) || length <= 0) throw new SlackApiError("missing_argument");
    const altTextField =
      args.alt_txt !== undefined ? "alt_txt" : args.alt_text !== undefined ? "alt_text" : undefined;
    const altText = altTextField ? str(args[altTextField]) : undefined;
    if (altText !== undefined && altText.length > 1000) throw new SlackApiError("alt_txt_too_large");
    const fileId = this.files.newId();
    const key = randomId("", 24);
    this.pending.set(fileId, { fileId, filename, length, altText, altTextField });
    this.uploadKeys.set(key, fileId);
    return { upload_url: `${this.baseUrl()}/upload/v1/${key}`, file_id: fileId };
  }

  /** Bytes POSTed to an upload URL; false when the URL is unknown. */
  receiveUpload(key: string, bytes: Buffer, contentType: string): boolean {
    const fileId = this.uploadKeys.get(key);
    const pending = fileId ? this.pending.get(fileId) : undefined;
    if (!pending) return false;
    pending.bytes = bytes;
    pending.contentType = contentType;
    return true;
  }

  private completeUpload(args: Params): Params {
    let list: unknown;
    try {
      list = jsonField(args.files);
    } catch {
      throw new SlackApiError("invalid_arguments");
    }
    if (!Array.isArray(list) || list.length === 0) throw new SlackApiError("invalid_arguments");
    const channelId = str(args.channel_id) ?? str(args.channels);
    if (channelId) this.memberChannel({ channel: channelId });
    const threadTs = channelId ? str(args.thread_ts) : undefined;
    const entries = list.map((item: unknown) => {
      const entry = (item ?? {}) as Params;
      const pending = this.pending.get(str(entry.id) ?? "");
      if (!pending?.bytes) throw new SlackApiError("file_not_found");
      return { pending, bytes: pending.bytes, title: str(entry.title) };
    });
    const out = entries.map(({ pending, bytes, title }) => {
      this.pending.delete(pending.fileId);
      const hosted = this.files.add(
        { bytes, name: pending.filename, title, altText: pending.altText, user: this.id.botUserId },
        pending.fileId,
      );
      this.recorder.add({
        kind: "upload",
        seq: this.nextSeq(),
        fileId: pending.fileId,
        channel: channelId,
        threadTs,
        filename: pending.filename,
        title,
        altText: pending.altText,
        altTextField: pending.altTextField,
        initialComment: str(args.initial_comment),
        bytes,
        declaredLength: pending.length,
        uploadContentType: pending.contentType ?? "",
      });
      // Real Slack shares asynchronously: no `shares`, so no message ts comes back.
      return structuredClone(hosted.object);
    });
    return { files: out };
  }
}
