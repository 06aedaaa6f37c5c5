/**
 * Message components and modals as Discord validates them: action rows of buttons on messages
 * (https://discord.com/developers/docs/components/reference), and the modal of an interaction
 * callback type 9 (text inputs in labels or, the legacy form, in action rows; checkboxes in
 * labels). A definition Discord would refuse fails here with the same 50035 error, so an adapter
 * that overshoots a limit (a 101-character custom_id, six buttons in a row) fails its test.
 */
import { errors } from "./discord-http.js";

const TYPE = {
  ActionRow: 1,
  Button: 2,
  TextInput: 4,
  TextDisplay: 10,
  Label: 18,
  Checkbox: 23,
} as const;

export const CUSTOM_ID_LIMIT = 100;

type Path = (string | number)[];
type Json = Record<string, unknown>;

const asObject = (value: unknown): Json =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};

function customId(value: unknown, path: Path, seen: Set<string>): string {
  if (typeof value !== "string" || value.length < 1 || value.length > CUSTOM_ID_LIMIT) {
    throw errors.invalidForm(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
  }
  if (seen.has(value)) {
    throw errors.invalidForm(
      path,
      "COMPONENT_CUSTOM_ID_DUPLICATED",
      "Component custom id cannot be duplicated",
    );
  }
  seen.add(value);
  return value;
}

function text(value: unknown, max: number, path: Path, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== "string" || value.length > max || (required && value.length === 0)) {
    throw errors.invalidForm(path, "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${max} in length.`);
  }
}

/** The `components` of a message body: at most 5 action rows of at most 5 buttons. */
export function validateMessageComponents(components: unknown): void {
  if (components === undefined) return;
  if (!Array.isArray(components) || components.length > 5) {
    throw errors.invalidForm(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
  }
  const seen = new Set<string>();
  components.forEach((row, r) => {
    const rowJson = asObject(row);
    const path: Path = ["components", r];
    if (rowJson.type !== TYPE.ActionRow) {
      throw errors.invalidForm(
        [...path, "type"],
        "UNION_TYPE_CHOICES",
        "Value of field type must be one of (1,).",
      );
    }
    const buttons = Array.isArray(rowJson.components) ? rowJson.components : [];
    if (buttons.length < 1 || buttons.length > 5) {
      throw errors.invalidForm(
        [...path, "components"],
        "BASE_TYPE_BAD_LENGTH",
        "Must be between 1 and 5 in length.",
      );
    }
    buttons.forEach((button, b) => {
      const json = asObject(button);
      const at: Path = [...path, "components", b];
      if (json.type !== TYPE.Button) {
        throw errors.invalidForm(
          [...at, "type"],
          "UNION_TYPE_CHOICES",
          "fake Discord: only buttons are modelled",
        );
      }
      text(json.label, 80, [...at, "label"], json.emoji === undefined);
      if (json.style === 5) {
        if (typeof json.url !== "string")
          throw errors.invalidForm([...at, "url"], "BASE_TYPE_REQUIRED", "This field is required");
      } else if (typeof json.style === "number" && json.style >= 1 && json.style <= 4) {
        customId(json.custom_id, [...at, "custom_id"], seen);
      } else {
        throw errors.invalidForm(
          [...at, "style"],
          "BASE_TYPE_CHOICES",
          "Value must be one of {1, 2, 3, 4, 5, 6}.",
        );
      }
    });
  });
}

/** Every custom_id of a message's buttons (what a user can press). */
export function buttonIds(components: unknown): string[] {
  if (!Array.isArray(components)) return [];
  return components.flatMap((row) => {
    const buttons = asObject(row).components;
    return Array.isArray(buttons)
      ? buttons.flatMap((b) =>
          typeof asObject(b).custom_id === "string" ? [asObject(b).custom_id as string] : [],
        )
      : [];
  });
}

/** A field of a modal the user can fill in. */
export interface ModalField {
  customId: string;
  type: typeof TYPE.TextInput | typeof TYPE.Checkbox;
  required: boolean;
  minLength?: number;
  maxLength?: number;
  /** Whether it sits in a label (the current form) or an action row (the legacy form). */
  inLabel: boolean;
}

export interface ModalDefinition {
  customId: string;
  title: string;
  fields: ModalField[];
}

/** The `data` of a type 9 callback. */
export function validateModal(data: unknown): ModalDefinition {
  const json = asObject(data);
  const seen = new Set<string>();
  const id = customId(json.custom_id, ["data", "custom_id"], seen);
  text(json.title, 45, ["data", "title"], true);
  const components = Array.isArray(json.components) ? json.components : [];
  if (components.length < 1 || components.length > 5) {
    throw errors.invalidForm(
      ["data", "components"],
      "BASE_TYPE_BAD_LENGTH",
      "Must be between 1 and 5 in length.",
    );
  }
  const fields: ModalField[] = [];
  components.forEach((raw, i) => {
    const top = asObject(raw);
    const path: Path = ["data", "components", i];
    if (top.type === TYPE.TextDisplay) return;
    if (top.type === TYPE.Label) {
      text(top.label, 45, [...path, "label"], true);
      text(top.description, 100, [...path, "description"], false);
      fields.push(field(asObject(top.component), [...path, "component"], seen, true));
      return;
    }
    if (top.type === TYPE.ActionRow) {
      const inner = Array.isArray(top.components) ? top.components : [];
      if (inner.length !== 1) {
        throw errors.invalidForm([...path, "components"], "BASE_TYPE_BAD_LENGTH", "Must be 1 in length.");
      }
      fields.push(field(asObject(inner[0]), [...path, "components", 0], seen, false));
      return;
    }
    throw errors.invalidForm(
      [...path, "type"],
      "UNION_TYPE_CHOICES",
      "fake Discord: component not allowed in a modal",
    );
  });
  return { customId: id, title: String(json.title), fields };
}

function field(json: Json, path: Path, seen: Set<string>, inLabel: boolean): ModalField {
  const id = customId(json.custom_id, [...path, "custom_id"], seen);
  if (json.type === TYPE.Checkbox) {
    if (!inLabel)
      throw errors.invalidForm([...path, "type"], "UNION_TYPE_CHOICES", "A checkbox must sit in a label");
    return { customId: id, type: TYPE.Checkbox, required: false, inLabel };
  }
  if (json.type !== TYPE.TextInput) {
    throw errors.invalidForm(
      [...path, "type"],
      "UNION_TYPE_CHOICES",
      "fake Discord: only text inputs and checkboxes",
    );
  }
  if (json.style !== 1 && json.style !== 2) {
    throw errors.invalidForm([...path, "style"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.");
  }
  // In a label the label carries the text; the legacy action-row form puts it on the input.
  if (inLabel && json.label !== undefined) {
    throw errors.invalidForm(
      [...path, "label"],
      "COMPONENT_LABEL_NOT_ALLOWED",
      "label is not allowed inside a Label",
    );
  }
  if (!inLabel) text(json.label, 45, [...path, "label"], true);
  const minLength = typeof json.min_length === "number" ? json.min_length : undefined;
  const maxLength = typeof json.max_length === "number" ? json.max_length : undefined;
  if (maxLength !== undefined && (maxLength < 1 || maxLength > 4000)) {
    throw errors.invalidForm(
      [...path, "max_length"],
      "NUMBER_TYPE_MAX",
      "int value should be less than or equal to 4000.",
    );
  }
  text(json.value, maxLength ?? 4000, [...path, "value"], false);
  return {
    customId: id,
    type: TYPE.TextInput,
    required: json.required !== false,
    inLabel,
    ...(minLength === undefined ? {} : { minLength }),
    ...(maxLength === undefined ? {} : { maxLength }),
  };
}

/**
 * The `data.components` of the MODAL_SUBMIT Discord sends for `values` typed into `modal`: each
 * field in the form it was defined in (label → `component`, action row → `components`).
 */
export function submittedComponents(
  modal: ModalDefinition,
  values: Record<string, string | boolean>,
): unknown[] {
  for (const name of Object.keys(values)) {
    if (!modal.fields.some((f) => f.customId === name)) {
      throw new Error(`fake Discord: the modal ${modal.customId} has no field ${name}`);
    }
  }
  let id = 1;
  return modal.fields.map((f) => {
    const value = values[f.customId];
    let component: Json;
    if (f.type === TYPE.Checkbox) {
      component = { type: TYPE.Checkbox, id: ++id, custom_id: f.customId, value: value === true };
    } else {
      const typed = typeof value === "string" ? value : "";
      if (f.required && typed === "")
        throw new Error(`fake Discord: ${f.customId} is required; Discord would not submit`);
      if (f.minLength !== undefined && typed !== "" && typed.length < f.minLength)
        throw new Error(
          `fake Discord: ${f.customId} is shorter than ${f.minLength}; Discord would not submit`,
        );
      if (f.maxLength !== undefined && typed.length > f.maxLength)
        throw new Error(
          `fake Discord: ${f.customId} is longer than ${f.maxLength}; the client would not allow it`,
        );
      component = { type: TYPE.TextInput, id: ++id, custom_id: f.customId, value: typed };
    }
    return f.inLabel
      ? { type: TYPE.Label, id: ++id, component }
      : { type: TYPE.ActionRow, id: ++id, components: [component] };
  });
}
