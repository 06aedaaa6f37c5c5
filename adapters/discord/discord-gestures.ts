import { type Client, type Interaction, type Message, MessageFlags, MessageReferenceType } from "discord.js";
import type { Handler } from "../../src/core/handler.js";
import type { IncomingRequest, ReplyTo } from "../../src/core/ports.js";
import type { BotStore } from "../../src/core/store.js";
import type { Logger } from "../../src/logger.js";
import { discordErrorCode } from "./discord-errors.js";
import { discordAttachment, type FileDeps, storedImageAttachment } from "./discord-files.js";
import { missingPermissions, reportMissingPermissions } from "./discord-permissions.js";
import { promptFromMessage } from "./discord-text.js";
import { DiscordThread } from "./discord-thread.js";
import { InteractionReplyTarget, MessageReplyTarget, type ReplyTarget } from "./reply-targets.js";
import { IMAGINE, imagineInput } from "./slash-command.js";

/**
 * Discord gestures → core requests: a user mention of the bot (or any DM), a reply to one of its
 * images (the reply ping mentions it), and `/imagine`. The core dedupes, tracks and answers each
 * request; nothing here throws.
 */

export const PLATFORM = "discord";

export interface GestureDeps {
  client: Client<true>;
  handler: Handler;
  store: BotStore;
  logger: Logger;
  files: FileDeps;
  typingIntervalMs: number;
}

/** Whether a message is addressed to the bot: a DM, or a message that mentions the bot user. */
export function addressesBot(message: Message, botUserId: string): boolean {
  if (message.author.bot || message.system || message.webhookId !== null) return false;
  if (message.channel.isDMBased()) return true;
  // Only a user mention of the bot counts (reply pings included): never @everyone or a role.
  return message.mentions.users.has(botUserId);
}

export async function onMessage(deps: GestureDeps, message: Message): Promise<void> {
  if (!addressesBot(message, deps.client.user.id)) return;
  const thread = discordThread(deps, new MessageReplyTarget(message), message);
  // The gateway may deliver a message twice across a resume; two bot instances share the store.
  const build = async () => {
    const request = await messageRequest(deps, message);
    return request && { request };
  };
  await deps.handler.submit({ platform: PLATFORM, build }, thread, {
    deliveryKey: `${PLATFORM}:message:${message.id}`,
  });
}

/** The core request of a message, once it is known not to be a duplicate; undefined if the bot can't answer here. */
async function messageRequest(deps: GestureDeps, message: Message): Promise<IncomingRequest | undefined> {
  const botUserId = deps.client.user.id;
  const missing = missingPermissions(message.channel, botUserId);
  if (missing.length > 0) {
    await reportMissingPermissions(message.author, message.channel, missing, deps.logger);
    return undefined;
  }
  const request: IncomingRequest = {
    platform: PLATFORM,
    conversationId: message.channelId,
    user: {
      id: message.author.id,
      displayName: message.member?.displayName ?? message.author.globalName ?? message.author.username,
    },
    text: promptFromMessage(message, botUserId),
    attachments: message.attachments.map((file) =>
      discordAttachment(file, { channelId: message.channelId, messageId: message.id }, deps.files),
    ),
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
  };
  const replyTo = await repliedMessage(deps, message);
  if (replyTo) request.replyTo = replyTo;
  return request;
}

/** The replied-to message (its images come first); undefined for forwards and plain messages. */
async function repliedMessage(deps: GestureDeps, message: Message): Promise<ReplyTo | undefined> {
  const reference = message.reference;
  if (!reference?.messageId || reference.type === MessageReferenceType.Forward) return undefined;
  let replied: Message | undefined;
  try {
    replied = await message.fetchReference();
  } catch (error) {
    // Deleted, or no Read Message History: the store may still know the bot's image.
    deps.logger.debug("could not fetch the replied-to message", {
      messageId: reference.messageId,
      code: discordErrorCode(error),
      error,
    });
  }
  if (!replied) return { messageId: reference.messageId, attachments: [], fromBot: false };
  const location = { channelId: replied.channelId, messageId: replied.id };
  return {
    messageId: replied.id,
    attachments: replied.attachments.map((file) => discordAttachment(file, location, deps.files)),
    fromBot: replied.author.id === deps.client.user.id,
  };
}

export async function onInteraction(deps: GestureDeps, interaction: Interaction): Promise<void> {
  if (!interaction.isChatInputCommand() || interaction.commandName !== IMAGINE) return;
  const input = imagineInput(interaction);
  const request: IncomingRequest = {
    platform: PLATFORM,
    conversationId: interaction.channelId,
    user: {
      id: interaction.user.id,
      displayName:
        interaction.inCachedGuild() && interaction.member
          ? interaction.member.displayName
          : (interaction.user.globalName ?? interaction.user.username),
    },
    text: input.text,
    attachments: input.attachments.map((file) => discordAttachment(file, undefined, deps.files)),
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
  };
  // help, cancel and every mistake in the command are answered privately; runs publicly.
  const reading = deps.handler.read(request);
  const publicRun = reading.kind === "generate";
  const target = new InteractionReplyTarget(interaction, publicRun ? input.text : undefined, deps.logger);
  const thread = discordThread(deps, target, undefined, interaction.attachmentSizeLimit);
  const acknowledged = async () => {
    try {
      // Before any other await (the core calls this at once): Discord drops an interaction not
      // acknowledged within 3 s.
      await interaction.deferReply(publicRun ? {} : { flags: MessageFlags.Ephemeral });
      return { request };
    } catch (error) {
      deps.logger.warn("could not acknowledge /imagine in time", { code: discordErrorCode(error), error });
      return undefined;
    }
  };
  await deps.handler.submit({ platform: PLATFORM, build: acknowledged }, thread, { reading });
}

export function discordThread(
  deps: GestureDeps,
  target: ReplyTarget,
  message: Message | undefined,
  uploadLimit?: number,
): DiscordThread {
  return new DiscordThread(target, {
    logger: deps.logger,
    typingIntervalMs: deps.typingIntervalMs,
    ...(uploadLimit ? { maxUploadBytes: uploadLimit } : {}),
    onPermissionError: async () => {
      if (!message) return;
      const missing = missingPermissions(message.channel, deps.client.user.id);
      await reportMissingPermissions(message.author, message.channel, missing, deps.logger);
    },
  });
}
