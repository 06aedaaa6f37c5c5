/**
 * What rides in a button or a modal: a short key, within each platform's limit, and whatever
 * comes back parsed strictly (a forged or truncated id is ignored, never an error).
 */
import { describe, expect, it } from "vitest";
import {
  CUSTOM_ID,
  editModalId,
  imageButtonsRow,
  parseButton,
  parseEditModalId,
} from "../../adapters/discord/discord-buttons.js";
import { decodeImageKey, encodeImageKey } from "../../adapters/shared/follow-up-keys.js";
import {
  ACTION,
  decodeCancelValue,
  decodeEditMetadata,
  decodeImageValue,
  editView,
  encodeEditMetadata,
  encodeImageValue,
  imageButtonsBlocks,
  readEditState,
} from "../../adapters/slack/slack-buttons.js";

const uuid = "0b9c6f3e-5a1d-4c2b-9e7f-1a2b3c4d5e6f";
const longest = "x".repeat(64);

describe("image keys", () => {
  it("round-trip and refuse anything else", () => {
    expect(decodeImageKey(encodeImageKey({ runId: uuid, index: 14 }))).toEqual({ runId: uuid, index: 14 });
    for (const bad of [
      "",
      "run",
      "run:",
      ":1",
      "run:15",
      "run:-1",
      "run:1.5",
      "ru n:1",
      `${"x".repeat(65)}:1`,
    ]) {
      expect(decodeImageKey(bad)).toBeUndefined();
    }
    expect(() => encodeImageKey({ runId: "a b", index: 0 })).toThrow();
    expect(() => encodeImageKey({ runId: "a", index: 15 })).toThrow();
  });
});

describe("Slack", () => {
  it("puts the file id and the key in each button's value, far below the 2000-character limit", () => {
    const value = { fileId: "F0ABCDEF123", key: { runId: longest, index: 3 } };
    const blocks = imageButtonsBlocks("4/4", value) as {
      elements?: { action_id: string; value: string }[];
    }[];
    const buttons = blocks[1]?.elements ?? [];
    expect(buttons.map((b) => b.action_id)).toEqual([ACTION.again, ACTION.vary, ACTION.edit]);
    for (const button of buttons) {
      expect(button.value).toContain("F0ABCDEF123");
      expect(button.value.length).toBeLessThan(200);
      expect(decodeImageValue(button.value)).toEqual(value);
    }
    expect(decodeImageValue(encodeImageValue(value))).toEqual(value);
    for (const bad of [
      undefined,
      "",
      "{",
      '{"file":"F1"}',
      '{"file":"x","image":"r:0"}',
      '{"file":"F1","image":"r:99"}',
    ]) {
      expect(decodeImageValue(bad)).toBeUndefined();
    }
    expect(decodeCancelValue(uuid)).toBe(uuid);
    expect(decodeCancelValue("not a run id")).toBeUndefined();
  });

  it("keeps what the edit needs in private_metadata and reads the modal's state", () => {
    const metadata = {
      key: { runId: uuid, index: 0 },
      fileId: "F0ABC",
      channel: "C0GENERAL1",
      threadTs: "1700000000.000100",
    };
    const view = editView(metadata, true) as {
      private_metadata: string;
      callback_id: string;
      blocks: { block_id: string }[];
    };
    expect(view.callback_id).toBe("seedream_edit");
    expect(view.blocks.map((b) => b.block_id)).toEqual(["prompt", "keep"]);
    expect((editView(metadata, false) as { blocks: unknown[] }).blocks).toHaveLength(1);
    expect(view.private_metadata.length).toBeLessThan(3000);
    expect(decodeEditMetadata(view.private_metadata)).toEqual(metadata);
    expect(decodeEditMetadata(encodeEditMetadata({ ...metadata, channel: "not-a-channel" }))).toBeUndefined();
    expect(
      readEditState({
        values: {
          prompt: { prompt: { type: "plain_text_input", value: "night" } },
          keep: { keep: { type: "checkboxes", selected_options: [{ value: "keep" }] } },
        },
      }),
    ).toEqual({ prompt: "night", keepReferences: true });
    expect(readEditState({ values: { prompt: { prompt: { value: null } } } })).toEqual({
      prompt: "",
      keepReferences: false,
    });
    expect(readEditState("garbage")).toEqual({ prompt: "", keepReferences: false });
  });
});

describe("Discord", () => {
  it("starts each custom_id with its prefix and stays within 100 characters", () => {
    const row = imageButtonsRow({ runId: longest, index: 14 }).toJSON();
    const ids = row.components.map((c) => ("custom_id" in c ? c.custom_id : ""));
    expect(ids.map((id) => id.slice(0, id.indexOf(":", 9) + 1))).toEqual([
      CUSTOM_ID.again,
      CUSTOM_ID.vary,
      CUSTOM_ID.edit,
    ]);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(100);
    expect(parseButton(ids[1] ?? "")).toEqual({ action: "vary", key: { runId: longest, index: 14 } });
    expect(parseButton(`${CUSTOM_ID.cancel}${uuid}`)).toEqual({ action: "cancel", runId: uuid });
    for (const bad of [
      "",
      "seedream:again:",
      "seedream:again:r:x",
      "seedream:zoom:r:1",
      "seedream:cancel:a b",
    ]) {
      expect(parseButton(bad)).toBeUndefined();
    }
  });

  it("names the Edit modal after its image or its message", () => {
    const image = { kind: "image" as const, key: { runId: uuid, index: 2 } };
    const message = {
      kind: "message" as const,
      channelId: "1234567890123456789",
      messageId: "12345678901234567890",
    };
    for (const target of [image, message]) {
      const id = editModalId(target);
      expect(id.startsWith("seedream:edit:")).toBe(true);
      expect(id.length).toBeLessThanOrEqual(100);
      expect(parseEditModalId(id)).toEqual(target);
    }
    expect(parseEditModalId("seedream:edit:msg:1:2")).toBeUndefined();
    expect(parseEditModalId("seedream:vary:r:1")).toBeUndefined();
  });
});
