import { createHash } from "node:crypto";
import sharp from "sharp";

/**
 * Real JPEG bytes for fake Seedream images. Each index gets its own colour and stripe, so two
 * images never share a hash; results are cached because sharp encoding is the slow part.
 */
const cache = new Map<string, Promise<Buffer>>();

export function fakeJpeg(index: number, width = 64, height = 64): Promise<Buffer> {
  return cached(`${index}:${width}x${height}`, () => render(index, width, height, "jpeg"));
}

/** The same picture as a PNG (what `output_format: png` returns). */
export function fakePng(index: number, width = 64, height = 64): Promise<Buffer> {
  return cached(`png:${index}:${width}x${height}`, () => render(index, width, height, "png"));
}

function cached(key: string, make: () => Promise<Buffer>): Promise<Buffer> {
  let image = cache.get(key);
  if (!image) {
    image = make();
    cache.set(key, image);
  }
  return image;
}

async function render(index: number, width: number, height: number, format: "jpeg" | "png"): Promise<Buffer> {
  const hue = (index * 67) % 360;
  const [r, g, b] = hslToRgb(hue / 360, 0.6, 0.5);
  const stripe = Math.max(1, Math.floor(width / 8));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="rgb(${r},${g},${b})"/>
    <rect x="${(index * stripe) % width}" width="${stripe}" height="100%" fill="white"/>
  </svg>`;
  const image = sharp(Buffer.from(svg));
  return (format === "png" ? image.png() : image.jpeg({ quality: 80 })).toBuffer();
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 12) % 12;
    const a = s * Math.min(l, 1 - l);
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
