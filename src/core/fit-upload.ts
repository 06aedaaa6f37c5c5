import sharp from "sharp";

/**
 * Makes a generated image fit a platform's upload limit (Discord: 10 MiB; a 4K PNG can exceed
 * it). Images already small enough are returned untouched; others become JPEG, lowering quality
 * first and then the size, so the result still shows the whole picture.
 */
export async function fitUpload(
  bytes: Buffer,
  mimeType: string,
  maxBytes: number | undefined,
): Promise<{ bytes: Buffer; mimeType: string }> {
  if (maxBytes === undefined || bytes.byteLength <= maxBytes) return { bytes, mimeType };
  const metadata = await sharp(bytes).metadata();
  let width = metadata.autoOrient.width;
  let quality = 90;
  for (let attempt = 0; attempt < 10; attempt++) {
    const output = await sharp(bytes)
      .autoOrient()
      .resize({ width, withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality })
      .toBuffer();
    if (output.byteLength <= maxBytes) return { bytes: output, mimeType: "image/jpeg" };
    if (quality > 75) quality -= 10;
    else width = Math.max(16, Math.floor(width * Math.min(0.9, Math.sqrt(maxBytes / output.byteLength))));
  }
  throw new Error(`could not fit the image into ${maxBytes} bytes`);
}
