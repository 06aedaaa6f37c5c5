/**
 * What a follow-up button carries: a short key naming one image of one run (`<runId>:<index>`),
 * never the prompt or the references themselves. Buttons keep working after a restart because
 * the key is looked up in the store; platform limits (Slack's 2000-character button value,
 * Discord's 100-character custom_id) are never at risk because the key is at most 68 characters.
 * Anything pressed is untrusted input: a key that doesn't parse is `undefined`, never an error.
 */

import type { ImageKey } from "../../src/core/ports.js";

export type { ImageKey } from "../../src/core/ports.js";

/** Run ids are UUIDs in production; tests use short ones. Nothing else may ride in a key. */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Seedream returns at most 15 images per request. */
const MAX_INDEX = 14;

export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

export function encodeImageKey(key: ImageKey): string {
  if (!isRunId(key.runId)) throw new Error(`not a run id: ${JSON.stringify(key.runId)}`);
  if (!Number.isInteger(key.index) || key.index < 0 || key.index > MAX_INDEX) {
    throw new Error(`not an image index: ${key.index}`);
  }
  return `${key.runId}:${key.index}`;
}

export function decodeImageKey(text: string): ImageKey | undefined {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return undefined;
  const runId = text.slice(0, colon);
  const indexText = text.slice(colon + 1);
  if (!isRunId(runId) || !/^\d{1,2}$/.test(indexText)) return undefined;
  const index = Number(indexText);
  return index <= MAX_INDEX ? { runId, index } : undefined;
}
