import { z } from "zod";
import { truncate } from "../../src/core/text.js";
import { decodeImageKey, encodeImageKey, type ImageKey, isRunId } from "../shared/follow-up-keys.js";

/**
 * The Block Kit the follow-ups are drawn with, and the parsing of what comes back. The names are
 * relied on outside this code (keep them exactly): buttons `seedream_again`, `seedream_vary`,
 * `seedream_edit` on each image, `seedream_cancel` on a running status; the modal
 * `seedream_edit` with the input block `prompt` / action `prompt`. A button's value carries the
 * image's Slack file id and its image key; the modal's private_metadata carries where the result
 * goes. Everything parsed here is untrusted: a value that doesn't parse is `undefined`.
 */

export const ACTION = {
  again: "seedream_again",
  vary: "seedream_vary",
  edit: "seedream_edit",
  cancel: "seedream_cancel",
} as const satisfies Record<string, string>;

export const EDIT_VIEW = {
  callbackId: "seedream_edit",
  promptBlock: "prompt",
  promptAction: "prompt",
  keepBlock: "keep",
  keepAction: "keep",
  keepValue: "keep",
  /** Slack allows 3000; the slash command's prompt is capped at the same length as Discord's. */
  promptMaxLength: 1800,
} as const;

export type ImageAction = "again" | "vary" | "edit";

export interface ImageButtonValue {
  fileId: string;
  key: ImageKey;
}

const imageValueSchema = z.object({ file: z.string().regex(/^F[A-Z0-9]{1,30}$/), image: z.string() });

export function encodeImageValue(value: ImageButtonValue): string {
  return JSON.stringify({ file: value.fileId, image: encodeImageKey(value.key) });
}

export function decodeImageValue(text: string | undefined): ImageButtonValue | undefined {
  const parsed = imageValueSchema.safeParse(safeJson(text));
  if (!parsed.success) return undefined;
  const key = decodeImageKey(parsed.data.image);
  return key ? { fileId: parsed.data.file, key } : undefined;
}

const button = (action: string, text: string, value: string) => ({
  type: "button",
  action_id: action,
  text: { type: "plain_text", text, emoji: true },
  value,
});

/** The compact message that follows each image in its thread: "2/4" and the three buttons. */
export function imageButtonsBlocks(caption: string, value: ImageButtonValue): unknown[] {
  const encoded = encodeImageValue(value);
  return [
    { type: "context", elements: [{ type: "plain_text", text: caption, emoji: false }] },
    {
      type: "actions",
      block_id: `seedream_image_${value.key.index}`,
      elements: [
        button(ACTION.again, "Again", encoded),
        button(ACTION.vary, "Vary", encoded),
        button(ACTION.edit, "Edit…", encoded),
      ],
    },
  ];
}

/** A status message with its Cancel button (while the run goes on). `text` is already Slack text. */
export function cancellableStatusBlocks(text: string, runId: string): unknown[] {
  return [
    // A section holds 3000 characters; the message's `text` keeps the whole status.
    { type: "section", text: { type: "mrkdwn", text: truncate(text, 3000), verbatim: true } },
    {
      type: "actions",
      block_id: "seedream_status",
      elements: [{ ...button(ACTION.cancel, "Cancel", runId), style: "danger" }],
    },
  ];
}

export function decodeCancelValue(text: string | undefined): string | undefined {
  return text !== undefined && isRunId(text) ? text : undefined;
}

/** Where an edit's results go, and which image it edits: the modal's private_metadata. */
export interface EditMetadata {
  key: ImageKey;
  fileId: string;
  channel: string;
  threadTs: string;
}

const metadataSchema = z.object({
  image: z.string(),
  file: z.string(),
  channel: z.string().regex(/^[CDG][A-Z0-9]{1,30}$/),
  thread: z.string().regex(/^\d{1,12}\.\d{1,8}$/),
});

export function encodeEditMetadata(metadata: EditMetadata): string {
  return JSON.stringify({
    image: encodeImageKey(metadata.key),
    file: metadata.fileId,
    channel: metadata.channel,
    thread: metadata.threadTs,
  });
}

export function decodeEditMetadata(text: string | undefined): EditMetadata | undefined {
  const parsed = metadataSchema.safeParse(safeJson(text));
  if (!parsed.success) return undefined;
  const key = decodeImageKey(parsed.data.image);
  if (!key) return undefined;
  return { key, fileId: parsed.data.file, channel: parsed.data.channel, threadTs: parsed.data.thread };
}

/**
 * The Edit… modal (views.open): one text field, and the "keep the other references" checkbox
 * when the image's run had references besides it.
 */
export function editView(metadata: EditMetadata, offerKeep: boolean): Record<string, unknown> {
  const blocks: unknown[] = [
    {
      type: "input",
      block_id: EDIT_VIEW.promptBlock,
      label: { type: "plain_text", text: "How should this image change?" },
      hint: { type: "plain_text", text: "Flags work here too, e.g. --ar 16:9 or --n 2." },
      element: {
        type: "plain_text_input",
        action_id: EDIT_VIEW.promptAction,
        multiline: true,
        max_length: EDIT_VIEW.promptMaxLength,
        placeholder: { type: "plain_text", text: "make it night, add snow" },
      },
    },
  ];
  if (offerKeep) {
    blocks.push({
      type: "input",
      block_id: EDIT_VIEW.keepBlock,
      optional: true,
      label: { type: "plain_text", text: "References" },
      element: {
        type: "checkboxes",
        action_id: EDIT_VIEW.keepAction,
        options: [
          { text: { type: "plain_text", text: "Keep the other references" }, value: EDIT_VIEW.keepValue },
        ],
      },
    });
  }
  return {
    type: "modal",
    callback_id: EDIT_VIEW.callbackId,
    private_metadata: encodeEditMetadata(metadata),
    title: { type: "plain_text", text: "Edit image" },
    submit: { type: "plain_text", text: "Edit" },
    close: { type: "plain_text", text: "Cancel" },
    blocks,
  };
}

const stateSchema = z.object({
  values: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        value: z.string().nullish(),
        selected_options: z.array(z.object({ value: z.string() })).nullish(),
      }),
    ),
  ),
});

/** What the user typed and ticked in the Edit… modal. */
export function readEditState(state: unknown): { prompt: string; keepReferences: boolean } {
  const parsed = stateSchema.safeParse(state);
  const values = parsed.success ? parsed.data.values : {};
  const prompt = values[EDIT_VIEW.promptBlock]?.[EDIT_VIEW.promptAction]?.value ?? "";
  const ticked = values[EDIT_VIEW.keepBlock]?.[EDIT_VIEW.keepAction]?.selected_options ?? [];
  return { prompt, keepReferences: ticked.some((option) => option.value === EDIT_VIEW.keepValue) };
}

function safeJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
