import { mkdir, readFile, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, parseConfig } from "../config.js";
import { errorSentence } from "../core/messages.js";
import { createSeedreamClient } from "../seedream/client.js";
import { SeedreamError } from "../seedream/errors.js";
import type { GenerateRequest, GenerationEvent } from "../seedream/types.js";
import type { CliIo, Subcommand } from "./types.js";

const USAGE = `Usage: seedream-bot generate "<prompt>" --out DIR [options]

Generates images with the configured Seedream provider and writes each one to DIR the
moment it is finished. Uses the same environment as the bot (SEEDREAM_API_KEY, …).

Options:
  --out DIR      directory for the images (created if missing)        required
  --ref FILE     reference image (repeat for several)
  --n N          how many images at most (group generation)           default 1
  --size S       2K, 4K, WIDTHxHEIGHT, …                              default: DEFAULT_SIZE or the model's
  --model M      model id                                             default: SEEDREAM_MODEL or the provider's 4.5
  --watermark    add the provider's "AI generated" mark               default: DEFAULT_WATERMARK`;

/** Exit codes: 0 at least one image saved, 1 the generation failed, 2 bad usage or configuration. */
export const generateCommand: Subcommand = {
  summary: "generate images from the command line (checks a key and a model)",
  usage: USAGE,
  run: runGenerate,
};

interface Options {
  prompt: string;
  out: string;
  refs: string[];
  n: number;
  size: string | undefined;
  model: string | undefined;
  watermark: boolean | undefined;
}

class UsageError extends Error {}

function parseOptions(args: string[]): Options {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      ref: { type: "string", multiple: true },
      n: { type: "string" },
      size: { type: "string" },
      model: { type: "string" },
      watermark: { type: "boolean" },
    },
  });
  // Unquoted prompts arrive as several words: take them all rather than complain.
  const prompt = positionals.join(" ").trim();
  if (prompt === "")
    throw new UsageError('Give a prompt: seedream-bot generate "a red fox in snow" --out out');
  if (!values.out) throw new UsageError("Give an output directory with --out DIR.");
  const n = values.n === undefined ? 1 : Number(values.n);
  if (!Number.isInteger(n) || n < 1 || n > 15)
    throw new UsageError("--n must be a whole number from 1 to 15.");
  return {
    prompt,
    out: values.out,
    refs: values.ref ?? [],
    n,
    size: values.size,
    model: values.model,
    watermark: values.watermark,
  };
}

const MIME_BY_EXTENSION: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".bmp": "image/bmp",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
};

/** By content first (files are often misnamed), then by extension. */
export function imageMimeType(bytes: Buffer, fileName: string): string | undefined {
  const head = bytes.subarray(0, 12);
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return "image/png";
  if (
    head.subarray(0, 4).toString("latin1") === "RIFF" &&
    head.subarray(8, 12).toString("latin1") === "WEBP"
  ) {
    return "image/webp";
  }
  if (head.subarray(0, 3).toString("latin1") === "GIF") return "image/gif";
  if (head.subarray(0, 2).toString("latin1") === "BM") return "image/bmp";
  const tiff = head.subarray(0, 4).toString("hex");
  if (tiff === "49492a00" || tiff === "4d4d002a") return "image/tiff";
  return MIME_BY_EXTENSION[extname(fileName).toLowerCase()];
}

async function referenceUri(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new UsageError(`Cannot read reference image ${file}.`);
  }
  const mime = imageMimeType(bytes, file);
  if (!mime)
    throw new UsageError(`${file} is not an image Seedream understands (jpeg, png, webp, bmp, tiff, gif).`);
  return `data:${mime};base64,${bytes.toString("base64")}`;
}

const EXTENSIONS: Record<string, string> = { "image/png": "png", "image/webp": "webp" };

function describe(event: Extract<GenerationEvent, { type: "image_failed" }>): string {
  if (event.kind === "moderation") return `blocked by moderation: ${event.message || event.code}`;
  if (event.kind === "internal") return `failed (Seedream internal error): ${event.message || event.code}`;
  return `failed: ${event.code}${event.message ? ` ${event.message}` : ""}`;
}

async function runGenerate(args: string[], io: CliIo): Promise<number> {
  let options: Options;
  let references: string[];
  let config: ReturnType<typeof parseConfig>;
  try {
    options = parseOptions(args);
    config = parseConfig(io.env);
    references = await Promise.all(options.refs.map(referenceUri));
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof TypeError) {
      io.stderr(error.message);
      return 2;
    }
    throw error;
  }
  const { seedream } = config;
  if (seedream.provider === "demo" || seedream.apiKey === undefined) {
    io.stderr("generate talks to a real Seedream API: set SEEDREAM_PROVIDER and SEEDREAM_API_KEY.");
    return 2;
  }
  if (options.n > config.defaults.maxImages) {
    io.stderr(`--n ${options.n} is above MAX_IMAGES_PER_REQUEST (${config.defaults.maxImages}).`);
    return 2;
  }

  const client = createSeedreamClient({
    provider: seedream.provider,
    apiKey: seedream.apiKey,
    baseUrl: seedream.baseUrl,
    model: options.model ?? seedream.model,
    headersTimeoutMs: seedream.headersTimeoutMs,
    idleTimeoutMs: seedream.idleTimeoutMs,
    maxRetries: seedream.maxRetries,
  });
  const request: GenerateRequest = {
    prompt: options.prompt,
    references,
    maxImages: options.n,
    size: options.size ?? config.defaults.size,
    watermark: options.watermark ?? config.defaults.watermark,
  };
  const interrupt = io.signal ? undefined : onInterrupt();
  const signal = io.signal ?? interrupt?.signal;
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  let saved = 0;
  try {
    client.validate(request);
    await mkdir(options.out, { recursive: true });
    io.stdout(`generating ${options.n} image${options.n === 1 ? "" : "s"} with ${client.describeModel()}…`);
    for await (const event of client.generate(request, { signal })) {
      const label = `image ${event.type === "completed" ? "" : event.index + 1}/${options.n}`;
      if (event.type === "image") {
        const path = join(
          options.out,
          `seedream-${stamp}-${event.index + 1}.${EXTENSIONS[event.mimeType] ?? "jpeg"}`,
        );
        await writeFile(path, event.bytes);
        saved += 1;
        const size = event.size ? ` ${event.size.width}x${event.size.height}` : "";
        io.stdout(`${label} saved ${path}${size}`);
      } else if (event.type === "image_failed") {
        io.stdout(`${label} ${describe(event)}`);
      } else {
        io.stdout(`done: ${saved} image${saved === 1 ? "" : "s"} saved`);
      }
    }
  } catch (error) {
    if (error instanceof SeedreamError) {
      io.stderr(`error: ${errorSentence(error)}`);
      return error.code === "validation" ? 2 : 1;
    }
    throw error;
  } finally {
    interrupt?.dispose();
    await client.close();
  }
  if (saved === 0) {
    io.stderr("error: no image was generated.");
    return 1;
  }
  return 0;
}

function onInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = () => controller.abort();
  process.once("SIGINT", handler);
  return { signal: controller.signal, dispose: () => process.removeListener("SIGINT", handler) };
}
