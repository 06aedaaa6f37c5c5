import {
  type ButtonInteraction,
  type Interaction,
  type Message,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type ModalSubmitInteraction,
  PermissionFlagsBits,
} from "discord.js";
import {
  cancelRefused,
  FOLLOW_UP_TOO_OLD,
  NO_IMAGES_TO_EDIT,
  RUN_ALREADY_OVER,
} from "../../src/core/messages.js";
import type { FollowUp, IncomingRequest } from "../../src/core/ports.js";
import {
  EDIT_MODAL,
  EDIT_WITH_SEEDREAM,
  editModal,
  parseButton,
  parseEditModalId,
} from "./discord-buttons.js";
import { discordErrorCode } from "./discord-errors.js";
import { describedAttachment, discordAttachment, storedImageAttachment } from "./discord-files.js";
import { discordThread, type GestureDeps, PLATFORM } from "./discord-gestures.js";
import { NO_PINGS } from "./discord-text.js";
import { FollowUpTarget } from "./reply-targets.js";

/**
 * The follow-up buttons, the Edit modal and "Edit with Seedream" → core verbs. Every interaction
 * is answered within Discord's 3 s before anything slow (deferUpdate, a modal, or a deferred
 * private reply); results go into the channel as replies to the pressed or edited message; the
 * presser is the requester and private answers go to them. Nothing here throws.
 */

/** Messages "Edit with Seedream" was run on, until their modal comes back (Discord allows 15 min). */
export class EditTargets {
  readonly #messages = new Map<string, { message: Message; expires: number }>();

  remember(message: Message, now = Date.now()): void {
    for (const [id, entry] of this.#messages) if (entry.expires <= now) this.#messages.delete(id);
    this.#messages.set(message.id, { message, expires: now + 15 * 60_000 });
  }

  take(messageId: string): Message | undefined {
    const entry = this.#messages.get(messageId);
    this.#messages.delete(messageId);
    return entry && entry.expires > Date.now() ? entry.message : undefined;
  }
}

export type FollowUpDeps = GestureDeps & { editTargets: EditTargets };

export function isFollowUpInteraction(interaction: Interaction): boolean {
  return (
    interaction.isButton() ||
    interaction.isModalSubmit() ||
    (interaction.isMessageContextMenuCommand() && interaction.commandName === EDIT_WITH_SEEDREAM)
  );
}

export async function onFollowUpInteraction(deps: FollowUpDeps, interaction: Interaction): Promise<void> {
  if (interaction.isButton()) await onButton(deps, interaction);
  else if (interaction.isModalSubmit()) await onModalSubmit(deps, interaction);
  else if (interaction.isMessageContextMenuCommand()) await onEditWithSeedream(deps, interaction);
}

const displayName = (interaction: ButtonInteraction | ModalSubmitInteraction): string =>
  interaction.inCachedGuild() && interaction.member
    ? interaction.member.displayName
    : (interaction.user.globalName ?? interaction.user.username);

function request(
  deps: GestureDeps,
  interaction: ButtonInteraction | ModalSubmitInteraction,
  extra: Partial<IncomingRequest>,
): IncomingRequest {
  return {
    platform: PLATFORM,
    conversationId: interaction.channelId ?? "",
    user: { id: interaction.user.id, displayName: displayName(interaction) },
    text: "",
    attachments: [],
    resolveStoredImage: (image) => storedImageAttachment(image, deps.files),
    resolveFile: (descriptor) => describedAttachment(descriptor, deps.files),
    ...extra,
  };
}

/** Runs `built` with its answers as replies to `replyTo` in the interaction's channel. */
async function submit(
  deps: GestureDeps,
  interaction: ButtonInteraction | ModalSubmitInteraction,
  built: IncomingRequest,
  replyTo: string | undefined,
  deferredReply: boolean,
): Promise<void> {
  const where = {
    platform: PLATFORM,
    channel: interaction.channelId ?? "",
    ...(replyTo === undefined ? {} : { thread: replyTo }),
  };
  const target = new FollowUpTarget(deps.client, where, interaction, deferredReply, deps.logger);
  const thread = discordThread(deps, target, undefined);
  await deps.handler.submit(built, thread, { deliveryKey: `discord:interaction:${interaction.id}` });
}

async function acknowledge(deps: GestureDeps, what: string, ack: () => Promise<unknown>): Promise<boolean> {
  try {
    await ack();
    return true;
  } catch (error) {
    deps.logger.warn(`could not acknowledge ${what} in time`, { code: discordErrorCode(error), error });
    return false;
  }
}

async function privately(deps: GestureDeps, interaction: ButtonInteraction, text: string): Promise<void> {
  await interaction
    .followUp({ content: text, flags: MessageFlags.Ephemeral, allowedMentions: NO_PINGS })
    .catch((error: unknown) => deps.logger.warn("could not answer a press privately", { error }));
}

async function onButton(deps: FollowUpDeps, interaction: ButtonInteraction): Promise<void> {
  const pressed = parseButton(interaction.customId);
  if (!pressed) return;
  if (pressed.action === "edit") {
    // The modal is the answer, so it must go out within 3 s: one store read first, nothing slower.
    const run = await deps.store.getRun(pressed.key.runId);
    if (!run?.images.some((image) => image.index === pressed.key.index)) {
      await acknowledge(deps, "Edit", () =>
        interaction.reply({
          content: FOLLOW_UP_TOO_OLD,
          flags: MessageFlags.Ephemeral,
          allowedMentions: NO_PINGS,
        }),
      );
      return;
    }
    const modal = editModal({ kind: "image", key: pressed.key }, run.references.length > 0);
    await acknowledge(deps, "Edit", () => interaction.showModal(modal));
    return;
  }
  if (!(await acknowledge(deps, "a button press", () => interaction.deferUpdate()))) return;
  if (pressed.action === "cancel") {
    const result = await deps.handler.cancelRun(PLATFORM, pressed.runId, {
      userId: interaction.user.id,
      isAdmin: async () => interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false,
    });
    if (result.kind === "refused")
      await privately(deps, interaction, cancelRefused(`<@${result.requesterId}>`));
    else if (result.kind === "over") await privately(deps, interaction, RUN_ALREADY_OVER);
    return;
  }
  const followUp: FollowUp = { verb: pressed.action, image: pressed.key };
  await submit(deps, interaction, request(deps, interaction, { followUp }), interaction.message.id, false);
}

async function onModalSubmit(deps: FollowUpDeps, interaction: ModalSubmitInteraction): Promise<void> {
  const target = parseEditModalId(interaction.customId);
  if (!target) return;
  const fromMessage = interaction.isFromMessage();
  const acked = await acknowledge(deps, "the Edit form", () =>
    fromMessage ? interaction.deferUpdate() : interaction.deferReply({ flags: MessageFlags.Ephemeral }),
  );
  if (!acked) return;
  const prompt = interaction.fields.getTextInputValue(EDIT_MODAL.prompt);
  let keepReferences = false;
  try {
    keepReferences = interaction.fields.getCheckbox(EDIT_MODAL.keep) === true;
  } catch {
    // The form had no checkbox (the run had no other references).
  }
  if (target.kind === "image") {
    const followUp: FollowUp = { verb: "edit", image: target.key, keepReferences };
    const replyTo = interaction.message?.id;
    await submit(
      deps,
      interaction,
      request(deps, interaction, { followUp, text: prompt }),
      replyTo,
      !fromMessage,
    );
    return;
  }
  // "Edit with Seedream": the target message as it was handed over (Discord gives an app that
  // message even without the Message Content intent), else fetched again.
  const message =
    deps.editTargets.take(target.messageId) ??
    (await deps.files
      .fetchMessage({ channelId: target.channelId, messageId: target.messageId })
      .catch(() => undefined));
  if (!message || images(message).length === 0) {
    await interaction
      .editReply({ content: NO_IMAGES_TO_EDIT, allowedMentions: NO_PINGS })
      .catch((error: unknown) => deps.logger.warn("could not answer the Edit form", { error }));
    return;
  }
  const location = { channelId: target.channelId, messageId: target.messageId };
  const attachments = images(message).map((file) => discordAttachment(file, location, deps.files));
  const built = request(deps, interaction, {
    text: prompt,
    replyTo: { messageId: target.messageId, attachments, fromBot: message.author.id === deps.client.user.id },
  });
  await submit(deps, interaction, built, target.messageId, true);
}

const images = (message: Message) =>
  [...message.attachments.values()].filter(
    (file) => file.contentType?.toLowerCase().startsWith("image/") ?? true,
  );

async function onEditWithSeedream(
  deps: FollowUpDeps,
  interaction: MessageContextMenuCommandInteraction,
): Promise<void> {
  const message = interaction.targetMessage;
  if (images(message).length === 0) {
    await acknowledge(deps, "Edit with Seedream", () =>
      interaction.reply({
        content: NO_IMAGES_TO_EDIT,
        flags: MessageFlags.Ephemeral,
        allowedMentions: NO_PINGS,
      }),
    );
    return;
  }
  deps.editTargets.remember(message);
  const modal = editModal({ kind: "message", channelId: message.channelId, messageId: message.id }, false);
  await acknowledge(deps, "Edit with Seedream", () => interaction.showModal(modal));
}
