import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileAttachment } from "../../adapters/console/file-attachment.js";
import { createGenerator } from "../app.js";
import { type Config, ConfigError, parseConfig } from "../config.js";
import { BadCommandError } from "../core/errors.js";
import { parseCommand } from "../core/grammar.js";
import { errorSentence } from "../core/messages.js";
import { prepareReferences, referenceRulesFor } from "../core/references.js";
import { checkRequest, planFor } from "../core/request-run.js";
import { plural } from "../core/text.js";
import { isBotError } from "../errors.js";
import { SeedreamError } from "../seedream/errors.js";
import { modelCapabilities } from "../seedream/models.js";
import type { GenerationEvent } from "../seedream/types.js";
import type { CliIo, Subcommand } from "./types.js";

const USAGE = `Usage: seedream-bot generate "<prompt> [chat flags]" --out DIR [--ref FILE]...

Generates images with the configured Seedream provider (SEEDREAM_PROVIDER=demo needs no key) and
writes each one to DIR the moment it is finished. Uses the same environment as the bot.

Options:
  --out DIR      directory for the images (created if missing)        required
  --ref FILE     reference image, checked and resized as the bot does (repeat for several)

Everything else is read exactly as a chat message: --n N, --size 2K|WxH, --ar 16:9, --model 4.5,
--seed N, --fast, --watermark / --no-watermark.`;

/** Exit codes: 0 at least one image saved, 1 the generation failed, 2 bad usage or configuration. */
export const generateCommand: Subcommand = {
  summary: "generate images from the command line (checks a key and a model)",
  usage: USAGE,
  run: runGenerate,
};

class UsageError extends Error {}

interface CliArgs {
  /** The chat text: prompt and chat flags, as a message would carry them. */
  text: string;
  out: string;
  refs: string[];
}

/** `--out` and `--ref` are the CLI's own; every other word goes to the chat grammar untouched. */
function splitArgs(args: string[]): CliArgs {
  const { values, tokens } = parseArgs({
    args,
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: { out: { type: "string" }, ref: { type: "string", multiple: true } },
  });
  const own = new Set<number>();
  for (const token of tokens) {
    if (token.kind !== "option" || (token.name !== "out" && token.name !== "ref")) continue;
    own.add(token.index);
    if (token.inlineValue === false) own.add(token.index + 1);
  }
  const text = args.filter((_arg, index) => !own.has(index)).join(" ");
  if (text.trim() === "")
    throw new UsageError('Give a prompt: seedream-bot generate "a red fox in snow" --out out');
  if (typeof values.out !== "string" || values.out === "")
    throw new UsageError("Give an output directory with --out DIR.");
  const refs = (values.ref ?? []).filter((ref): ref is string => typeof ref === "string");
  return { text, out: values.out, refs };
}

const EXTENSIONS: Record<string, string> = { "image/png": "png", "image/webp": "webp" };

function describe(event: Extract<GenerationEvent, { type: "image_failed" }>): string {
  if (event.kind === "moderation") return `blocked by moderation: ${event.message || event.code}`;
  if (event.kind === "internal") return `failed (Seedream internal error): ${event.message || event.code}`;
  return `failed: ${event.code}${event.message ? ` ${event.message}` : ""}`;
}

async function runGenerate(args: string[], io: CliIo): Promise<number> {
  let cli: CliArgs;
  let config: Config;
  try {
    cli = splitArgs(args);
    config = parseConfig(io.env);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr(error.message);
      return 2;
    }
    throw error;
  }

  const generator = createGenerator(config);
  const interrupt = io.signal ? undefined : onInterrupt();
  const signal = io.signal ?? interrupt?.signal;
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  let saved = 0;
  try {
    const command = parseCommand(cli.text, { defaults: config.defaults });
    if (command.kind !== "generate") {
      io.stderr(USAGE);
      return 2;
    }
    const { params } = command;
    const sources = cli.refs.map((file) => fileAttachment(file));
    // The bot's one check, with the real reference count: a bad flag is reported before any file is read.
    const request = { ...checkRequest(planFor(params), sources.length, generator) };
    if (sources.length > 0) {
      const references = await prepareReferences(
        sources,
        referenceRulesFor(modelCapabilities(request.model)),
        {
          maxBytes: config.limits.maxReferenceBytes,
          timeoutMs: config.limits.referenceFetchTimeoutMs,
          ...(signal === undefined ? {} : { signal }),
        },
      );
      request.references = references.map((reference) => reference.dataUri);
    }
    await mkdir(cli.out, { recursive: true });
    io.stdout(`generating ${plural(params.n, "image")} with ${generator.describeModel(request.model)}…`);
    for await (const event of generator.generate(request, signal === undefined ? {} : { signal })) {
      const label = `image ${event.type === "completed" ? "" : event.index + 1}/${params.n}`;
      if (event.type === "image") {
        const path = join(
          cli.out,
          `seedream-${stamp}-${event.index + 1}.${EXTENSIONS[event.mimeType] ?? "jpeg"}`,
        );
        await writeFile(path, event.bytes);
        saved += 1;
        const size = event.size ? ` ${event.size.width}x${event.size.height}` : "";
        io.stdout(`${label} saved ${path}${size}`);
      } else if (event.type === "image_failed") {
        io.stdout(`${label} ${describe(event)}`);
      } else {
        io.stdout(`done: ${plural(saved, "image")} saved`);
      }
    }
  } catch (error) {
    if (error instanceof SeedreamError) {
      io.stderr(`error: ${errorSentence(error)}`);
      return error.code === "validation" ? 2 : 1;
    }
    // The user's own mistakes (flags, reference files): the sentence the bot would say, exit 2.
    if (error instanceof BadCommandError) {
      io.stderr(error.reason);
      return 2;
    }
    if (isBotError(error)) {
      io.stderr(errorSentence(error));
      return 2;
    }
    throw error;
  } finally {
    interrupt?.dispose();
    await generator.close?.();
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
