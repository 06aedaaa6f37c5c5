import { setTimeout as delay } from "node:timers/promises";
import sharp from "sharp";
import { plural } from "../core/text.js";
import { SeedreamAbortedError } from "../seedream/errors.js";
import type { Sleep } from "../seedream/retry.js";
import type {
  GenerateOptions,
  GenerateRequest,
  GenerationEvent,
  ImageGenerator,
  ImageSize,
} from "../seedream/types.js";

/**
 * `SEEDREAM_PROVIDER=demo`: a local stand-in for the API so anyone can try the bot (and its
 * Slack/Discord set-up) before they have a key. Every image says DEMO on it, so nobody mistakes
 * a placeholder for model output. Timing and the occasional moderation block mimic the real
 * service closely enough that the thread looks and behaves as it will in production.
 */
export interface DemoGeneratorOptions {
  /** Validation shared with the real client, so the demo teaches the real limits. */
  validate: ImageGenerator["validate"];
  describeModel: (modelId?: string) => string;
  models?: ImageGenerator["models"];
  /** Milliseconds before the first image (SEEDREAM_DEMO_DELAY_MS); later ones take 48–100 % of it. */
  baseDelayMs?: number;
  /** Milliseconds before image `i` (0-based) is ready, measured from the previous one. */
  delayMs?: (index: number) => number;
  /** Probability that one image of a group (n ≥ 2) is "blocked by moderation". */
  moderationRate?: number;
  random?: () => number;
  sleep?: Sleep;
}

const LONG_SIDE = 1024;

const DEMO_DEFAULTS = { baseDelayMs: 2_500, moderationRate: 0.12 } as const satisfies Required<
  Pick<DemoGeneratorOptions, "baseDelayMs" | "moderationRate">
>;

const sleepUntilCancelled: Sleep = (ms, signal) =>
  delay(ms, undefined, { signal }).catch((error: unknown) => {
    throw new SeedreamAbortedError("aborted", "Demo generation was cancelled.", { cause: error });
  });

export function createDemoGenerator(options: DemoGeneratorOptions): ImageGenerator {
  const random = options.random ?? Math.random;
  const base = options.baseDelayMs ?? DEMO_DEFAULTS.baseDelayMs;
  // The real API: ~25 s to the first image at 2K, then one every 12–25 s; the demo keeps that shape.
  const delayMs =
    options.delayMs ?? ((index) => (index === 0 ? base : Math.floor(base * (0.48 + random() * 0.52))));
  const moderationRate = options.moderationRate ?? DEMO_DEFAULTS.moderationRate;
  const sleep = options.sleep ?? sleepUntilCancelled;

  return {
    validate: options.validate,
    describeModel: options.describeModel,
    ...(options.models ? { models: options.models } : {}),
    async *generate(request: GenerateRequest, generateOptions: GenerateOptions = {}) {
      const prepared = options.validate(request);
      const { signal } = generateOptions;
      const count = Math.max(1, prepared.maxImages ?? 1);
      const size = outputSize(prepared.size);
      let generated = 0;
      for (let index = 0; index < count; index++) {
        await sleep(delayMs(index), signal);
        if (count > 1 && random() < moderationRate) {
          yield {
            type: "image_failed",
            index,
            code: "OutputImageSensitiveContentDetected",
            message: "Demo mode: this slot simulates an image blocked by content moderation.",
            kind: "moderation",
          } satisfies GenerationEvent;
          continue;
        }
        const bytes = await renderPlaceholder(request, index, count, size);
        generated++;
        yield { type: "image", index, bytes, mimeType: "image/jpeg", size } satisfies GenerationEvent;
      }
      yield {
        type: "completed",
        usage: {
          generatedImages: generated,
          outputTokens: Math.round((generated * size.width * size.height) / 256),
        },
      } satisfies GenerationEvent;
    },
  };
}

/** Keeps the requested aspect ratio but renders small: placeholders need not be 4K. */
export function outputSize(requested: string | undefined): ImageSize {
  const match = requested?.match(/^(\d+)\s*[x×]\s*(\d+)$/i);
  const width = match ? Number(match[1]) : 1;
  const height = match ? Number(match[2]) : 1;
  const scale = LONG_SIDE / Math.max(width, height);
  return { width: Math.max(16, Math.round(width * scale)), height: Math.max(16, Math.round(height * scale)) };
}

async function renderPlaceholder(
  request: GenerateRequest,
  index: number,
  count: number,
  size: ImageSize,
): Promise<Buffer> {
  const hue = Math.round((hash(request.prompt) + index * 47) % 360);
  const lines = wrap(request.prompt, 34).slice(0, 5);
  const refs = request.references?.length ?? 0;
  const fontSize = Math.round(size.width / 26);
  const text = lines
    .map(
      (line, i) =>
        `<text x="50%" y="${48 + i * 6}%" font-size="${fontSize}" text-anchor="middle">${escapeXml(line)}</text>`,
    )
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="hsl(${hue},55%,30%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},65%,55%)"/>
</linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>
<g font-family="sans-serif" fill="white">
<text x="50%" y="30%" font-size="${fontSize * 2}" font-weight="bold" text-anchor="middle">DEMO ${index + 1}/${count}</text>
${text}
<text x="50%" y="92%" font-size="${Math.round(fontSize * 0.7)}" text-anchor="middle" fill-opacity="0.8">seedream-bot demo mode${refs ? ` · ${plural(refs, "reference")}` : ""} · not a Seedream image</text>
</g></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = "";
    }
    line = line ? `${line} ${word}` : word;
    while (line.length > width) {
      lines.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line) lines.push(line);
  return lines;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function hash(text: string): number {
  let h = 0;
  for (const char of text) h = (h * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return h;
}
