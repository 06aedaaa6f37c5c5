import sharp from "sharp";
import type { RecordedRequest } from "../fakes/seedream-server.js";

/**
 * Comparing images the way a person would: the references Seedream received are re-encoded by
 * the bot (normalised), so they are compared to the original by an 8×8 thumbnail, not by bytes.
 */

async function thumbnail(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes).removeAlpha().resize(8, 8, { fit: "fill" }).raw().toBuffer();
}

function decode(image: Buffer | string): Buffer {
  if (Buffer.isBuffer(image)) return image;
  const match = /^data:image\/[a-z]+;base64,(.*)$/s.exec(image);
  if (!match) throw new Error(`not a data URI: ${image.slice(0, 40)}`);
  return Buffer.from(match[1] ?? "", "base64");
}

/** Whether two images (bytes or data URIs) look the same: every thumbnail channel within 12 of 255. */
export async function looksSame(a: Buffer | string, b: Buffer | string): Promise<boolean> {
  const [x, y] = await Promise.all([thumbnail(decode(a)), thumbnail(decode(b))]);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (Math.abs((x[i] ?? 0) - (y[i] ?? 0)) > 12) return false;
  return true;
}

/** The reference images of a recorded Seedream request, as data URIs (none → []). */
export function referencesOf(request: RecordedRequest | undefined): string[] {
  const image = request?.body?.image;
  if (image === undefined) return [];
  return (Array.isArray(image) ? image : [image]).map(String);
}
