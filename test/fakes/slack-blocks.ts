/**
 * Block Kit as Slack validates it (https://api.slack.com/reference/block-kit): the blocks of a
 * message (actions with buttons, image, section, context) and of a modal view (input blocks with
 * a plain_text_input or checkboxes). Limits and error shapes follow the reference: an adapter
 * that overshoots one (a button value over 2000 characters, a 25-character modal title) gets
 * `invalid_blocks` / `invalid_arguments` here as it would from Slack.
 */
import { type Params, SlackApiError } from "./slack-wire.js";

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};

/** An `invalid_blocks` answer naming the offending field by JSON pointer, as Slack does. */
export function invalidBlocks(reason: string, pointer: string): SlackApiError {
  return new SlackApiError("invalid_blocks", {
    errors: [`${reason} [json-pointer:${pointer}]`],
    response_metadata: { messages: [`[ERROR] ${reason} [json-pointer:${pointer}]`] },
  });
}

function textObject(value: unknown, max: number, pointer: string, plainOnly = true): void {
  const json = asObject(value);
  const allowed = plainOnly ? ["plain_text"] : ["plain_text", "mrkdwn"];
  if (!allowed.includes(String(json.type)))
    throw invalidBlocks(`must be a ${allowed.join(" or ")} text object`, pointer);
  if (typeof json.text !== "string" || json.text.length < 1 || json.text.length > max) {
    throw invalidBlocks(`must be between 1 and ${max} characters`, `${pointer}/text`);
  }
}

function id(value: unknown, pointer: string, seen?: Set<string>): void {
  if (value === undefined) return;
  if (typeof value !== "string" || value.length < 1 || value.length > 255) {
    throw invalidBlocks("must be between 1 and 255 characters", pointer);
  }
  if (seen?.has(value)) throw invalidBlocks(`duplicate ${pointer.split("/").at(-1)} "${value}"`, pointer);
  seen?.add(value);
}

export interface BlockRules {
  /** Whether `slack_file.id` names a file this workspace can show in an image block. */
  fileUsable(fileId: string): boolean;
}

/** The `blocks` of chat.postMessage / chat.update. */
export function validateMessageBlocks(blocks: unknown[], rules: BlockRules): void {
  const blockIds = new Set<string>();
  blocks.forEach((raw, i) => {
    const block = asObject(raw);
    const at = `/blocks/${i}`;
    id(block.block_id, `${at}/block_id`, blockIds);
    switch (block.type) {
      case "actions":
        actions(block, at);
        return;
      case "image":
        image(block, at, rules);
        return;
      case "section":
        if (block.text !== undefined) textObject(block.text, 3000, `${at}/text`, false);
        return;
      case "context": {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length < 1 || elements.length > 10)
          throw invalidBlocks("must have 1 to 10 elements", `${at}/elements`);
        elements.forEach((e, j) => {
          if (asObject(e).type !== "image") textObject(e, 3000, `${at}/elements/${j}`, false);
        });
        return;
      }
      case "divider":
      case "rich_text":
        return;
      default:
        throw invalidBlocks(`unsupported block type "${String(block.type)}"`, `${at}/type`);
    }
  });
}

function actions(block: Json, at: string): void {
  const elements = Array.isArray(block.elements) ? block.elements : [];
  if (elements.length < 1 || elements.length > 25)
    throw invalidBlocks("must have 1 to 25 elements", `${at}/elements`);
  const actionIds = new Set<string>();
  elements.forEach((raw, j) => {
    const element = asObject(raw);
    const where = `${at}/elements/${j}`;
    if (element.type !== "button")
      throw invalidBlocks("fake Slack models only buttons in actions", `${where}/type`);
    textObject(element.text, 75, `${where}/text`);
    id(element.action_id, `${where}/action_id`, actionIds);
    if (element.value !== undefined && (typeof element.value !== "string" || element.value.length > 2000)) {
      throw invalidBlocks("must be at most 2000 characters", `${where}/value`);
    }
    if (element.style !== undefined && element.style !== "primary" && element.style !== "danger") {
      throw invalidBlocks("must be primary or danger", `${where}/style`);
    }
  });
}

function image(block: Json, at: string, rules: BlockRules): void {
  if (typeof block.alt_text !== "string" || block.alt_text.length < 1 || block.alt_text.length > 2000) {
    throw invalidBlocks("must be between 1 and 2000 characters", `${at}/alt_text`);
  }
  if (block.title !== undefined) textObject(block.title, 2000, `${at}/title`);
  if (typeof block.image_url === "string") return;
  const file = asObject(block.slack_file);
  if (typeof file.id !== "string" && typeof file.url !== "string") {
    throw invalidBlocks("must provide either image_url or slack_file", at);
  }
  if (typeof file.id === "string" && !rules.fileUsable(file.id))
    throw invalidBlocks("invalid slack file", `${at}/slack_file`);
}

/** A modal field a user can fill in, as validated from the view. */
export interface ViewInput {
  blockId: string;
  actionId: string;
  type: "plain_text_input" | "checkboxes";
  optional: boolean;
  maxLength?: number;
  /** Checkbox options (value → text). */
  options?: { text: Json; value: string }[];
}

/** views.open's `view`; throws Slack's `invalid_arguments` for what Slack refuses. */
export function validateView(view: Json): ViewInput[] {
  const invalid = (message: string) =>
    new SlackApiError("invalid_arguments", { response_metadata: { messages: [`[ERROR] ${message}`] } });
  if (view.type !== "modal") throw invalid("view.type must be modal");
  const plain = (value: unknown, max: number, name: string) => {
    const json = asObject(value);
    if (
      json.type !== "plain_text" ||
      typeof json.text !== "string" ||
      json.text.length < 1 ||
      json.text.length > max
    ) {
      throw invalid(
        `${name} must be a plain_text object of 1 to ${max} characters [json-pointer:/view/${name}]`,
      );
    }
  };
  plain(view.title, 24, "title");
  if (view.close !== undefined) plain(view.close, 24, "close");
  if (view.submit !== undefined) plain(view.submit, 24, "submit");
  if (
    view.callback_id !== undefined &&
    (typeof view.callback_id !== "string" || view.callback_id.length > 255)
  ) {
    throw invalid("callback_id must be at most 255 characters");
  }
  if (
    view.private_metadata !== undefined &&
    (typeof view.private_metadata !== "string" || view.private_metadata.length > 3000)
  ) {
    throw invalid("private_metadata must be at most 3000 characters [json-pointer:/view/private_metadata]");
  }
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  if (blocks.length > 100) throw invalid("no more than 100 items allowed [json-pointer:/view/blocks]");
  const inputs: ViewInput[] = [];
  const blockIds = new Set<string>();
  blocks.forEach((raw, i) => {
    const block = asObject(raw);
    const at = `/view/blocks/${i}`;
    try {
      id(block.block_id, `${at}/block_id`, blockIds);
      if (block.type !== "input") {
        validateMessageBlocks([block], { fileUsable: () => true });
        return;
      }
      textObject(block.label, 2000, `${at}/label`);
      const element = asObject(block.element);
      id(element.action_id, `${at}/element/action_id`);
      const blockId = typeof block.block_id === "string" ? block.block_id : `b${i}`;
      const actionId = typeof element.action_id === "string" ? element.action_id : `a${i}`;
      const optional = block.optional === true;
      if (element.type === "plain_text_input") {
        const maxLength = typeof element.max_length === "number" ? element.max_length : undefined;
        if (maxLength !== undefined && (maxLength < 1 || maxLength > 3000))
          throw invalidBlocks("max_length must be 1 to 3000", `${at}/element/max_length`);
        inputs.push({
          blockId,
          actionId,
          type: "plain_text_input",
          optional,
          ...(maxLength === undefined ? {} : { maxLength }),
        });
      } else if (element.type === "checkboxes") {
        const options = (Array.isArray(element.options) ? element.options : []).map((o) => asObject(o));
        if (options.length < 1 || options.length > 10)
          throw invalidBlocks("must have 1 to 10 options", `${at}/element/options`);
        options.forEach((o, j) => {
          textObject(o.text, 75, `${at}/element/options/${j}/text`, false);
          if (typeof o.value !== "string" || o.value.length > 150)
            throw invalidBlocks("must be at most 150 characters", `${at}/element/options/${j}/value`);
        });
        inputs.push({
          blockId,
          actionId,
          type: "checkboxes",
          optional,
          options: options.map((o) => ({ text: asObject(o.text), value: String(o.value) })),
        });
      } else {
        throw invalidBlocks(
          `fake Slack models plain_text_input and checkboxes inputs, not ${String(element.type)}`,
          `${at}/element/type`,
        );
      }
    } catch (error) {
      if (error instanceof SlackApiError && error.code === "invalid_blocks")
        throw invalid(String((error.extra.errors as string[])[0]));
      throw error;
    }
  });
  if (inputs.length > 0 && view.submit === undefined) throw invalid("a view with input blocks needs submit");
  return inputs;
}

/** `view.state.values` of a view_submission for `values` (text by action_id; option values for checkboxes). */
export function stateValues(inputs: ViewInput[], values: Record<string, string | string[]>): Params {
  for (const key of Object.keys(values)) {
    if (!inputs.some((input) => input.actionId === key))
      throw new Error(`fake Slack: the view has no input ${key}`);
  }
  const state: Record<string, Params> = {};
  for (const input of inputs) {
    const value = values[input.actionId];
    if (input.type === "plain_text_input") {
      const text = typeof value === "string" ? value : "";
      if (text === "" && !input.optional)
        throw new Error(`fake Slack: ${input.blockId} is required; Slack would not submit`);
      if (input.maxLength !== undefined && text.length > input.maxLength)
        throw new Error(`fake Slack: ${input.blockId} is too long`);
      state[input.blockId] = {
        [input.actionId]: { type: "plain_text_input", value: text === "" ? null : text },
      };
    } else {
      const picked = Array.isArray(value) ? value : [];
      const selected = picked.map((v) => {
        const option = input.options?.find((o) => o.value === v);
        if (!option) throw new Error(`fake Slack: ${input.blockId} has no option ${v}`);
        return { text: option.text, value: option.value };
      });
      state[input.blockId] = { [input.actionId]: { type: "checkboxes", selected_options: selected } };
    }
  }
  return state;
}
