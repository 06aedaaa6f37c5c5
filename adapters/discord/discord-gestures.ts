import {
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type Message,
  MessageFlags,
  MessageReferenceType,
  PermissionFlagsBits,
} from "discord.js";
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
import { commandText, IMAGINE, imagineInput } from "./slash-command.js";

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
      manager: message.member?.permissions.has(PermissionFlagsBits.ManageGuild) === true,
    },
    channelIds: channelIds(message.channel),
    text: promptFromMessage(message, botUserId),
    attachments: message.attachments.map((file) =>
      discordAttachment(file, { channelId: message.channelId, messageId: message.id }, deps.files),
    ),
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
  };
  if (message.guildId !== null) request.teamId = message.guildId;
  const replyTo = await repliedMessage(deps, message);
  if (replyTo) request.replyTo = replyTo;
  return request;
}

/** A channel, and for a thread its parent: ALLOWED_CHANNELS may list either. */
function channelIds(channel: { id: string; isThread(): boolean; parentId?: string | null }): string[] {
  return channel.isThread() && channel.parentId ? [channel.id, channel.parentId] : [channel.id];
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
  if (!interaction.isChatInputCommand()) return;
  const text = commandText(interaction);
  if (text !== undefined) return onPrivateCommand(deps, interaction, text);
  if (interaction.commandName !== IMAGINE) return;
  const input = imagineInput(interaction);
  const request = interactionRequest(deps, interaction, input.text);
  request.attachments = input.attachments.map((file) => discordAttachment(file, undefined, deps.files));
  // help, cancel and every mistake in the command are answered privately; runs publicly.
  const reading = deps.handler.read(request);
  // Quotas before the (public) acknowledgement, so a refusal stays private. A counter read takes
  // milliseconds, well inside the 3 s; a store error is left to the core to word.
  const admission =
    reading.kind === "generate"
      ? await deps.handler.admit(request, reading).catch(() => undefined)
      : undefined;
  const publicRun =
    reading.kind === "generate" &&
    (admission === undefined || (admission.granted && admission.reading.kind === "generate"));
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
  await deps.handler.submit({ platform: PLATFORM, build: acknowledged }, thread, {
    reading: admission?.granted ? admission.reading : reading,
    ...(admission === undefined ? {} : { admission }),
  });
}

/** `/usage` and `/settings`: answered only to the user who asked. */
async function onPrivateCommand(
  deps: GestureDeps,
  interaction: ChatInputCommandInteraction,
  text: string,
): Promise<void> {
  const request = interactionRequest(deps, interaction, text);
  const target = new InteractionReplyTarget(interaction, undefined, deps.logger);
  const thread = discordThread(deps, target, undefined);
  const acknowledged = async () => {
    try {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      return { request };
    } catch (error) {
      deps.logger.warn(`could not acknowledge /${interaction.commandName} in time`, {
        code: discordErrorCode(error),
        error,
      });
      return undefined;
    }
  };
  await deps.handler.submit({ platform: PLATFORM, build: acknowledged }, thread);
}

function interactionRequest(
  deps: GestureDeps,
  interaction: ChatInputCommandInteraction,
  text: string,
): IncomingRequest {
  const request: IncomingRequest = {
    platform: PLATFORM,
    conversationId: interaction.channelId,
    user: {
      id: interaction.user.id,
      displayName:
        interaction.inCachedGuild() && interaction.member
          ? interaction.member.displayName
          : (interaction.user.globalName ?? interaction.user.username),
      manager: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true,
    },
    channelIds: interaction.channel !== null ? channelIds(interaction.channel) : [interaction.channelId],
    text,
    attachments: [],
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
  };
  if (interaction.guildId !== null) request.teamId = interaction.guildId;
  return request;
}

export function discordThread(
  deps: Pick<GestureDeps, "logger" | "typingIntervalMs">,
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
      const missing = missingPermissions(message.channel, message.client.user.id);
      await reportMissingPermissions(message.author, message.channel, missing, deps.logger);
    },
  });
}
