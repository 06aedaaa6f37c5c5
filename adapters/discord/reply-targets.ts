import {
  type ActionRowBuilder,
  type ButtonBuilder,
  type ChatInputCommandInteraction,
  type Client,
  InteractionWebhook,
  type Message,
  type MessageCreateOptions,
  MessageFlags,
  type SendableChannels,
} from "discord.js";
import type { ThreadAddress } from "../../src/core/ports.js";
import { truncate } from "../../src/core/text.js";
import type { Logger } from "../../src/logger.js";
import { discordErrorCode, INVALID_WEBHOOK_TOKEN, UNKNOWN_WEBHOOK } from "./discord-errors.js";
import { CONTENT_LIMIT, NO_PINGS } from "./discord-text.js";

/**
 * Where the answers to one request go. A mention is answered with replies to the user's
 * message; a slash command with its deferred response (the status) and follow-ups.
 */

/** Discord's answers once an interaction's token (15 minutes) has expired. */
const isExpiredWebhook = (error: unknown): boolean => {
  const code = discordErrorCode(error);
  return code === INVALID_WEBHOOK_TOKEN || code === UNKNOWN_WEBHOOK;
};

/** Rows of buttons under a message; `[]` removes earlier ones, absent keeps them. */
export type Components = ActionRowBuilder<ButtonBuilder>[];

export interface OutgoingPost {
  content: string;
  files?: { attachment: Buffer; name: string; description?: string }[];
  components?: Components;
}

const withComponents = (components: Components | undefined) =>
  components === undefined ? {} : { components };

export interface ReplyTarget {
  /** A new message answering the request (an image, or an inline failure). */
  post(post: OutgoingPost): Promise<Message>;
  /** A sentence for the user; may reuse an unused placeholder instead of a new message. */
  postText(text: string): Promise<void>;
  /** Shows the status: the first call creates it, later calls edit it. */
  showStatus(text: string, components?: Components): Promise<void>;
  typing(): Promise<void>;
  /** Text only the requesting user sees, where the platform allows it. */
  ephemeral?(text: string): Promise<void>;
  /** The request was answered; tidy up (e.g. a slash command's unused "thinking…" response). */
  finish(): Promise<void>;
  /** Where the answers go, to rebuild this target after a restart (`AddressedTarget`). */
  address?(): ThreadAddress;
}

/** Replies to the user's message; the status is the first reply, edited in place. */
export class MessageReplyTarget implements ReplyTarget {
  #status: Message | undefined;

  constructor(private readonly request: Message) {}

  address(): ThreadAddress {
    return {
      platform: "discord",
      channel: this.request.channelId,
      thread: this.request.id,
      ...(this.#status === undefined ? {} : { statusMessageId: this.#status.id }),
    };
  }

  post(post: OutgoingPost): Promise<Message> {
    // failIfNotExists: a request deleted mid-run still gets its images, just without the reply link.
    return this.request.reply({ ...post, allowedMentions: NO_PINGS, failIfNotExists: false });
  }

  async postText(text: string): Promise<void> {
    await this.post({ content: text });
  }

  async showStatus(text: string, components?: Components): Promise<void> {
    if (this.#status === undefined) {
      this.#status = await this.post({ content: text, ...withComponents(components) });
      return;
    }
    await this.#status.edit({ content: text, allowedMentions: NO_PINGS, ...withComponents(components) });
  }

  async typing(): Promise<void> {
    const channel = this.request.channel;
    if (channel.isSendable()) await channel.sendTyping();
  }

  async finish(): Promise<void> {}
}

/**
 * A deferred slash command: the original response ("… is thinking") becomes the status, headed
 * by the command as typed (Discord shows only "used /imagine"); images are follow-ups. A command
 * that starts no run (help, cancel, a bad flag) was deferred privately, and its one answer
 * replaces the private "thinking…". The interaction webhook lives 15 minutes: a run outliving
 * it continues in the channel.
 */
export class InteractionReplyTarget implements ReplyTarget {
  #originalUsed = false;
  #statusId: string | undefined;

  constructor(
    private readonly interaction: ChatInputCommandInteraction,
    /** The command text shown above the status; undefined for a private answer. */
    private readonly heading: string | undefined,
    private readonly logger: Logger,
  ) {}

  async post(post: OutgoingPost): Promise<Message> {
    try {
      return await this.interaction.followUp({ ...post, allowedMentions: NO_PINGS });
    } catch (error) {
      const channel = this.interaction.channel;
      if (!isExpiredWebhook(error) || !channel?.isSendable()) throw error;
      this.logger.info("interaction token expired; posting in the channel instead", {
        code: discordErrorCode(error),
      });
      const options: MessageCreateOptions = { ...post, allowedMentions: NO_PINGS };
      return channel.send(options);
    }
  }

  async postText(text: string): Promise<void> {
    if (this.#originalUsed) {
      await this.post({ content: text });
      return;
    }
    await this.showStatus(text);
  }

  async showStatus(text: string, components?: Components): Promise<void> {
    const content =
      this.heading === undefined ? text : `> ${truncate(this.heading.replace(/\s+/g, " "), 1200)}\n${text}`;
    const shown = await this.interaction.editReply({
      content: truncate(content, CONTENT_LIMIT),
      allowedMentions: NO_PINGS,
      ...withComponents(components),
    });
    this.#statusId = shown.id;
    this.#originalUsed = true;
  }

  address(): ThreadAddress {
    const { applicationId, token, createdTimestamp } = this.interaction;
    return {
      platform: "discord",
      channel: this.interaction.channelId,
      ...(this.#statusId === undefined ? {} : { statusMessageId: this.#statusId }),
      details: {
        ...(this.heading === undefined ? {} : { heading: this.heading }),
        // Whoever continues the run (a queue worker, a restarted process) edits the response
        // and posts follow-ups through the interaction's webhook while its token lives, as
        // this target does; Discord documents only that route for editing the response.
        ...webhookDetails(applicationId, token, createdTimestamp + INTERACTION_TOKEN_MS),
      },
    };
  }

  async typing(): Promise<void> {
    const channel = this.interaction.channel;
    if (channel?.isSendable()) await channel.sendTyping();
  }

  async ephemeral(text: string): Promise<void> {
    if (this.heading === undefined && !this.#originalUsed) {
      await this.showStatus(text);
      return;
    }
    await this.interaction.followUp({
      content: text,
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_PINGS,
    });
  }

  async finish(): Promise<void> {
    if (this.#originalUsed) return;
    // Nothing was said (should not happen): don't leave "thinking…" behind.
    await this.interaction.deleteReply().catch((error: unknown) => {
      this.logger.warn("could not remove the unused slash command response", { error });
    });
  }
}

/** How long Discord keeps an interaction's token (and so its webhook) usable. */
const INTERACTION_TOKEN_MS = 15 * 60_000;

/** An interaction's webhook in a thread address (strings only). */
function webhookDetails(applicationId: string, token: string, until: number): Record<string, string> {
  return { webhook: `${applicationId}/${token}`, webhookUntil: String(until) };
}

/**
 * A target rebuilt from its address alone (after a restart, or in another process): posts go to
 * the channel (as replies to the request's message when there was one), the status message is
 * edited where it is. The interaction token of a slash command does not survive a restart, so
 * its follow-ups become channel messages.
 */
export class AddressedTarget implements ReplyTarget {
  #channel: Promise<SendableChannels> | undefined;
  #statusId: string | undefined;
  /** A slash command's webhook while its token lives: its response is the recorded status. */
  #webhook: { hook: InteractionWebhook; until: number } | undefined;

  constructor(
    /** A logged-in client, or one with only its REST token set (a worker's): both post over REST. */
    private readonly client: Client,
    private readonly where: ThreadAddress,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#statusId = where.statusMessageId;
    const [applicationId, token] = (where.details?.webhook ?? "").split("/");
    const until = Number(where.details?.webhookUntil);
    if (applicationId && token && until > now()) {
      // The webhook's routes take no bot token: any client's REST can call them.
      this.#webhook = { hook: new InteractionWebhook(client as Client<true>, applicationId, token), until };
    }
  }

  address(): ThreadAddress {
    const { statusMessageId: _old, ...rest } = this.where;
    return { ...rest, ...(this.#statusId === undefined ? {} : { statusMessageId: this.#statusId }) };
  }

  async post(post: OutgoingPost): Promise<Message> {
    const sent = await this.#throughWebhook((hook) => hook.send({ ...post, allowedMentions: NO_PINGS }));
    if (sent) return sent;
    const channel = await this.#sendable();
    const reply = this.where.thread;
    return channel.send({
      ...post,
      allowedMentions: NO_PINGS,
      ...(reply === undefined ? {} : { reply: { messageReference: reply, failIfNotExists: false } }),
    });
  }

  async postText(text: string): Promise<void> {
    await this.post({ content: text });
  }

  async showStatus(text: string, components?: Components): Promise<void> {
    const heading = this.where.details?.heading;
    const content = truncate(
      heading === undefined ? text : `> ${truncate(heading.replace(/\s+/g, " "), 1200)}\n${text}`,
      CONTENT_LIMIT,
    );
    const message = { content, allowedMentions: NO_PINGS, ...withComponents(components) };
    if (this.#statusId !== undefined && this.#statusId === this.where.statusMessageId) {
      if (await this.#throughWebhook((hook) => hook.editMessage("@original", message))) return;
    }
    const channel = await this.#sendable();
    if (this.#statusId !== undefined) {
      try {
        await channel.messages.edit(this.#statusId, message);
        return;
      } catch (error) {
        // Deleted meanwhile, or a slash command's response Discord only lets its (expired)
        // interaction token edit: the status goes on in a new message rather than nowhere.
        this.logger.info("could not edit the recorded status message; posting a new one", {
          code: discordErrorCode(error),
        });
      }
    }
    this.#statusId = (await this.post({ content, ...withComponents(components) })).id;
  }

  async typing(): Promise<void> {
    await (await this.#sendable()).sendTyping();
  }

  async finish(): Promise<void> {}

  /**
   * `send` through the slash command's webhook while its token lives; undefined when there is
   * none (any more): the caller goes through the channel instead.
   */
  async #throughWebhook(send: (hook: InteractionWebhook) => Promise<Message>): Promise<Message | undefined> {
    const webhook = this.#webhook;
    if (webhook === undefined) return undefined;
    if (this.now() >= webhook.until) {
      this.#webhook = undefined;
      return undefined;
    }
    try {
      return await send(webhook.hook);
    } catch (error) {
      if (!isExpiredWebhook(error)) throw error;
      this.logger.info("interaction token expired; posting in the channel instead", {
        code: discordErrorCode(error),
      });
      this.#webhook = undefined;
      return undefined;
    }
  }

  #sendable(): Promise<SendableChannels> {
    // allowUnknownGuild: a worker's client (no gateway) has no guilds cached, and a run from the
    // shared queue may be in a guild another shard holds; without it discord.js drops the channel.
    this.#channel ??= this.client.channels
      .fetch(this.where.channel, { allowUnknownGuild: true })
      .then((channel) => {
        if (!channel?.isSendable()) throw new Error(`channel ${this.where.channel} cannot be posted in`);
        return channel;
      });
    return this.#channel;
  }
}

/** An interaction that was acknowledged already (deferUpdate or a deferred private reply). */
export interface AcknowledgedInteraction {
  followUp(options: {
    content: string;
    flags: MessageFlags.Ephemeral;
    allowedMentions: typeof NO_PINGS;
  }): Promise<unknown>;
  editReply(options: { content: string; allowedMentions: typeof NO_PINGS }): Promise<unknown>;
  deleteReply(): Promise<unknown>;
}

/**
 * A follow-up (a button press, the Edit form, "Edit with Seedream"): results go into the channel
 * as replies to the pressed (or edited) message; private answers go to the presser through the
 * interaction. `deferredReply`: the interaction was acknowledged with a private "thinking…",
 * which the first private answer replaces (or which is removed when nothing was said).
 */
export class FollowUpTarget extends AddressedTarget {
  #replyUsed = false;

  constructor(
    client: Client,
    where: ThreadAddress,
    private readonly interaction: AcknowledgedInteraction,
    private readonly deferredReply: boolean,
    private readonly log: Logger,
  ) {
    super(client, where, log);
  }

  async ephemeral(text: string): Promise<void> {
    if (this.deferredReply && !this.#replyUsed) {
      this.#replyUsed = true;
      await this.interaction.editReply({ content: text, allowedMentions: NO_PINGS });
      return;
    }
    await this.interaction.followUp({
      content: text,
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_PINGS,
    });
  }

  override async finish(): Promise<void> {
    if (!this.deferredReply || this.#replyUsed) return;
    await this.interaction.deleteReply().catch((error: unknown) => {
      this.log.debug("could not remove the private thinking… of a follow-up", { error });
    });
  }
}
