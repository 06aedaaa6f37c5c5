/** The bytes of a base64 `data:` URI, as the bot sends reference images to Seedream. */
export function dataUriBytes(uri: unknown): Buffer {
  const match = /^data:[^;,]+;base64,(.*)$/s.exec(String(uri));
  if (!match) throw new Error(`not a base64 data URI: ${String(uri).slice(0, 40)}`);
  return Buffer.from(match[1] ?? "", "base64");
}
