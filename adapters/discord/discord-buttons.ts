import {
  ActionRowBuilder,
  ApplicationCommandType,
  ButtonBuilder,
  ButtonStyle,
  CheckboxBuilder,
  LabelBuilder,
  ModalBuilder,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
  TextInputBuilder,
  TextInputStyle,
} from "discord.js";
import { decodeImageKey, encodeImageKey, type ImageKey, isRunId } from "../shared/follow-up-keys.js";

/**
 * The components the follow-ups are drawn with, and the parsing of what comes back. Names relied
 * on outside this code (keep them exactly): buttons whose custom_id starts with
 * `seedream:again:`, `seedream:vary:`, `seedream:edit:` on each image and `seedream:cancel:` on a
 * running status; the Edit modal's custom_id starts with `seedream:edit:` and holds the text
 * input `prompt`; the message command is "Edit with Seedream". A custom_id carries a short key
 * (≤ 100 characters), never data; whatever comes back is untrusted and parsed to `undefined`.
 */

export const CUSTOM_ID = {
  again: "seedream:again:",
  vary: "seedream:vary:",
  edit: "seedream:edit:",
  cancel: "seedream:cancel:",
} as const satisfies Record<string, string>;

export const EDIT_MODAL = {
  prompt: "prompt",
  keep: "keep",
  /** The same cap as /imagine's prompt option. */
  promptMaxLength: 1800,
} as const;

export const EDIT_WITH_SEEDREAM = "Edit with Seedream";

export const EDIT_WITH_SEEDREAM_COMMAND: RESTPostAPIContextMenuApplicationCommandsJSONBody = {
  name: EDIT_WITH_SEEDREAM,
  type: ApplicationCommandType.Message,
};

export type ImageAction = "again" | "vary" | "edit";

/** The three buttons under an image. */
export function imageButtonsRow(key: ImageKey): ActionRowBuilder<ButtonBuilder> {
  const encoded = encodeImageKey(key);
  const make = (action: ImageAction, label: string) =>
    new ButtonBuilder()
      .setCustomId(`${CUSTOM_ID[action]}${encoded}`)
      .setLabel(label)
      .setStyle(ButtonStyle.Secondary);
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    make("again", "Again"),
    make("vary", "Vary"),
    make("edit", "Edit…"),
  );
}

export function cancelRow(runId: string): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder()
      .setCustomId(`${CUSTOM_ID.cancel}${runId}`)
      .setLabel("Cancel")
      .setStyle(ButtonStyle.Danger),
  );
}

/** Where an Edit modal's result goes: an image of a run, or another message's images. */
export type EditTarget =
  | { kind: "image"; key: ImageKey }
  | { kind: "message"; channelId: string; messageId: string };

export type PressedButton = { action: ImageAction; key: ImageKey } | { action: "cancel"; runId: string };

const SNOWFLAKE = /^\d{17,20}$/;
const MESSAGE_PREFIX = "msg:";

export function parseButton(customId: string): PressedButton | undefined {
  for (const action of ["again", "vary", "edit"] as const) {
    if (!customId.startsWith(CUSTOM_ID[action])) continue;
    const key = decodeImageKey(customId.slice(CUSTOM_ID[action].length));
    return key ? { action, key } : undefined;
  }
  if (customId.startsWith(CUSTOM_ID.cancel)) {
    const runId = customId.slice(CUSTOM_ID.cancel.length);
    return isRunId(runId) ? { action: "cancel", runId } : undefined;
  }
  return undefined;
}

export function editModalId(target: EditTarget): string {
  return target.kind === "image"
    ? `${CUSTOM_ID.edit}${encodeImageKey(target.key)}`
    : `${CUSTOM_ID.edit}${MESSAGE_PREFIX}${target.channelId}:${target.messageId}`;
}

export function parseEditModalId(customId: string): EditTarget | undefined {
  if (!customId.startsWith(CUSTOM_ID.edit)) return undefined;
  const rest = customId.slice(CUSTOM_ID.edit.length);
  if (rest.startsWith(MESSAGE_PREFIX)) {
    const [channelId = "", messageId = "", extra] = rest.slice(MESSAGE_PREFIX.length).split(":");
    return SNOWFLAKE.test(channelId) && SNOWFLAKE.test(messageId) && extra === undefined
      ? { kind: "message", channelId, messageId }
      : undefined;
  }
  const key = decodeImageKey(rest);
  return key ? { kind: "image", key } : undefined;
}

/** The Edit modal: one text field, and "keep the other references" when the run had others. */
export function editModal(target: EditTarget, offerKeep: boolean): ModalBuilder {
  const modal = new ModalBuilder()
    .setCustomId(editModalId(target))
    .setTitle(target.kind === "image" ? "Edit this image" : EDIT_WITH_SEEDREAM)
    .addLabelComponents(
      new LabelBuilder()
        .setLabel("How should it change?")
        .setDescription("Flags work here too, e.g. --ar 16:9 or --n 2.")
        .setTextInputComponent(
          new TextInputBuilder()
            .setCustomId(EDIT_MODAL.prompt)
            .setStyle(TextInputStyle.Paragraph)
            .setMaxLength(EDIT_MODAL.promptMaxLength)
            .setPlaceholder("make it night, add snow")
            .setRequired(true),
        ),
    );
  if (offerKeep) {
    modal.addLabelComponents(
      new LabelBuilder()
        .setLabel("Keep the other references")
        .setCheckboxComponent(new CheckboxBuilder().setCustomId(EDIT_MODAL.keep)),
    );
  }
  return modal;
}
