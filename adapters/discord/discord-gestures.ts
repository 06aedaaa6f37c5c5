import { type Client, type Interaction, type Message, MessageFlags, MessageReferenceType } from "discord.js";
import { type GrammarDefaults, startsGeneration } from "../../src/core/grammar.js";
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
 * images (the reply ping mentions it), and `/imagine`. Nothing here throws: each gesture ends
 * with the user told what happened, and the log saying why.
 */

export const PLATFORM = "discord";

export interface GestureDeps {
  client: Client<true>;
  handler: Handler;
  store: BotStore;
  logger: Logger;
  files: FileDeps;
  typingIntervalMs: number;
  /** `config.defaults`: decides which slash commands start a run (answered publicly). */
  defaults: GrammarDefaults;
}

/** Whether a message is addressed to the bot: a DM, or a message that mentions the bot user. */
export function addressesBot(message: Message, botUserId: string): boolean {
  if (message.author.bot || message.system || message.webhookId !== null) return false;
  if (message.channel.isDMBased()) return true;
  // Only a user mention of the bot counts (reply pings included): never @everyone or a role.
  return message.mentions.users.has(botUserId);
}

export async function onMessage(deps: GestureDeps, message: Message): Promise<void> {
  const botUserId = deps.client.user.id;
  if (!addressesBot(message, botUserId)) return;
  // The gateway may deliver a message twice across a resume; two bot instances share the store.
  if (await deps.store.seen(`${PLATFORM}:message:${message.id}`)) {
    deps.logger.debug("duplicate discord message ignored", { messageId: message.id });
    return;
  }
  const missing = missingPermissions(message.channel, botUserId);
  if (missing.length > 0) {
    await reportMissingPermissions(message.author, message.channel, missing, deps.logger);
    return;
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
  await run(deps, request, new MessageReplyTarget(message), message);
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
  // help, cancel and bad flags are answered privately; runs publicly.
  const publicRun = startsGeneration(input.text, { defaults: deps.defaults });
  try {
    // Before any other await: Discord drops an interaction not acknowledged within 3 s.
    await interaction.deferReply(publicRun ? {} : { flags: MessageFlags.Ephemeral });
  } catch (error) {
    deps.logger.warn("could not acknowledge /imagine in time", { code: discordErrorCode(error), error });
    return;
  }
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
  const target = new InteractionReplyTarget(interaction, publicRun ? input.text : undefined, deps.logger);
  await run(deps, request, target, undefined, interaction.attachmentSizeLimit);
}

async function run(
  deps: GestureDeps,
  request: IncomingRequest,
  target: ReplyTarget,
  message: Message | undefined,
  uploadLimit?: number,
): Promise<void> {
  const thread = new DiscordThread(target, {
    logger: deps.logger,
    typingIntervalMs: deps.typingIntervalMs,
    ...(uploadLimit ? { maxUploadBytes: uploadLimit } : {}),
    onPermissionError: async () => {
      if (!message) return;
      const missing = missingPermissions(message.channel, deps.client.user.id);
      await reportMissingPermissions(message.author, message.channel, missing, deps.logger);
    },
  });
  try {
    const result = await deps.handler.handle(request, thread);
    deps.logger.info("discord request handled", { outcome: result.outcome, runId: result.runId });
  } finally {
    await thread.finish();
  }
}
