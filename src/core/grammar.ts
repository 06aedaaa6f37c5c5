import { parseSize, wireSize } from "../seedream/validate.js";
import { MAX_ASPECT, MIN_ASPECT, parseRatio, sizeForRatio } from "./aspect.js";
import { BadCommandError } from "./errors.js";

/**
 * The command language: `<prompt> [--flag value]…`, `help`, `cancel`. Flags may sit anywhere;
 * everything else is the prompt, kept exactly as typed (full-width spaces and Chinese
 * punctuation included) apart from the removed flags.
 */

export interface GenerationParams {
  prompt: string;
  /** Images asked for; above 1 means group generation. */
  n: number;
  /** Wire form (`2K`, `2560x1440`, `adaptive`); undefined = the model's default. */
  size?: string;
  /** A version alias (`4.0`, `4.5`, `5.0`, `3.0`) or a model/endpoint id, as typed. */
  model?: string;
  seed?: number;
  watermark: boolean;
  fast: boolean;
  /** `#N` picks (1-based), in the order written; only read when the message replies to images. */
  picks: number[];
}

export type Command = { kind: "help" } | { kind: "cancel" } | { kind: "generate"; params: GenerationParams };

export interface GrammarDefaults {
  size: string | undefined;
  watermark: boolean;
  /** Upper bound for `--n` (MAX_IMAGES_PER_REQUEST). */
  maxImages: number;
}

export interface ParseOptions {
  defaults: GrammarDefaults;
  /** `#N` is a pick only in a reply to images; elsewhere it stays in the prompt ("a sign saying #1"). */
  allowPicks?: boolean;
}

const HELP_WORDS = new Set(["help", "--help", "-h", "?", "？", "帮助"]);
const CANCEL_WORDS = new Set(["cancel", "stop", "取消"]);
const VALUE_FLAGS = new Set(["n", "size", "ar", "model", "seed"]);
const SWITCH_FLAGS = new Set(["watermark", "no-watermark", "fast"]);
export const MODEL_ALIASES = new Set(["3.0", "4.0", "4.5", "5.0"]);

/**
 * `--`, or the dashes that Slack, macOS and iOS substitute for it (em/en dash, horizontal bar,
 * minus, full-width hyphen), or the Chinese IME's `——`, directly followed by a letter.
 */
const FLAG = /^(--|[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]{1,2})(\p{L}[\p{L}\d-]*)(?:[=＝](.*))?$/su;
const PICK = /^[#＃]([0-9０-９]{1,2})$/u;

interface Token {
  text: string;
  start: number;
  /** Index of the end of the whitespace before this token (i.e. where the separator begins). */
  separatorStart: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const match of text.matchAll(/\S+/gu)) {
    tokens.push({ text: match[0], start: match.index, separatorStart: previousEnd });
    previousEnd = match.index + match[0].length;
  }
  return tokens;
}

interface FlagToken {
  name: string;
  inlineValue: string | undefined;
  ascii: boolean;
}

function readFlag(token: string): FlagToken | undefined {
  const match = FLAG.exec(token);
  if (!match) return undefined;
  return { name: (match[2] ?? "").toLowerCase(), inlineValue: match[3], ascii: match[1] === "--" };
}

export function parseCommand(text: string, options: ParseOptions): Command {
  const trimmed = text.trim();
  const lowered = trimmed.toLowerCase();
  if (trimmed === "" || HELP_WORDS.has(lowered)) return { kind: "help" };
  if (CANCEL_WORDS.has(lowered)) return { kind: "cancel" };

  const tokens = tokenize(text);
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const picks: number[] = [];
  const kept: Token[] = [];

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const pick = options.allowPicks ? PICK.exec(token.text) : null;
    if (pick) {
      const value = Number((pick[1] ?? "").normalize("NFKC"));
      if (value < 1) throw new BadCommandError(`"#${value}" is not an image number: images count from #1.`);
      if (!picks.includes(value)) picks.push(value);
      continue;
    }
    const flag = readFlag(token.text);
    const known = flag && (VALUE_FLAGS.has(flag.name) || SWITCH_FLAGS.has(flag.name));
    if (!flag || !known) {
      // A typographic dash before an unknown word is prose ("—quietly"), not a mistyped flag.
      if (flag?.ascii) throw new BadCommandError(`Unknown option "--${flag.name}".`);
      kept.push(token);
      continue;
    }
    if (SWITCH_FLAGS.has(flag.name)) {
      if (flag.inlineValue !== undefined) throw new BadCommandError(`--${flag.name} takes no value.`);
      if (switches.has(flag.name)) throw new BadCommandError(`--${flag.name} is given twice.`);
      switches.add(flag.name);
      continue;
    }
    let value = flag.inlineValue;
    if (value === undefined) {
      const next = tokens[i + 1];
      if (next === undefined || readFlag(next.text) !== undefined) {
        throw new BadCommandError(`--${flag.name} needs a value.`);
      }
      value = next.text;
      i++;
    }
    if (value.trim() === "") throw new BadCommandError(`--${flag.name} needs a value.`);
    if (values.has(flag.name)) throw new BadCommandError(`--${flag.name} is given twice.`);
    values.set(flag.name, value.normalize("NFKC").trim());
  }

  const prompt = kept
    .map((token, position) =>
      position === 0 ? token.text : text.slice(token.separatorStart, token.start) + token.text,
    )
    .join("")
    .trim();
  if (prompt === "") throw new BadCommandError("Write a prompt describing the image you want.");

  if (switches.has("watermark") && switches.has("no-watermark")) {
    throw new BadCommandError("Use either --watermark or --no-watermark, not both.");
  }
  const params: GenerationParams = {
    prompt,
    n: parseCount(values.get("n"), options.defaults.maxImages),
    watermark: switches.has("watermark")
      ? true
      : switches.has("no-watermark")
        ? false
        : options.defaults.watermark,
    fast: switches.has("fast"),
    picks,
  };
  const size = resolveSize(values.get("size"), values.get("ar"), options.defaults.size);
  if (size !== undefined) params.size = size;
  const model = values.get("model");
  if (model !== undefined) params.model = parseModel(model);
  const seed = values.get("seed");
  if (seed !== undefined) params.seed = parseSeed(seed);
  return { kind: "generate", params };
}

function parseCount(value: string | undefined, max: number): number {
  if (value === undefined) return 1;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max)) {
    throw new BadCommandError(`--n must be a whole number from 1 to ${max} (got "${value}").`);
  }
  return n;
}

function resolveSize(
  size: string | undefined,
  ar: string | undefined,
  fallback: string | undefined,
): string | undefined {
  const parsed = size === undefined ? undefined : parseSize(size);
  if (size !== undefined && parsed === undefined) {
    throw new BadCommandError(`"${size}" is not a size: use 1K, 2K, 3K, 4K or WIDTHxHEIGHT like 2048x2048.`);
  }
  if (parsed?.kind === "pixels") {
    const aspect = parsed.width / parsed.height;
    if (aspect < MIN_ASPECT || aspect > MAX_ASPECT) {
      throw new BadCommandError(
        `${size} is too ${aspect < 1 ? "tall" : "wide"}: width and height may differ at most 16 times.`,
      );
    }
  }
  if (ar === undefined) return parsed ? wireSize(parsed) : fallback;

  const ratio = parseRatio(ar);
  if (ratio === undefined) throw new BadCommandError(`"${ar}" is not an aspect ratio: write it like 16:9.`);
  const aspect = ratio.width / ratio.height;
  if (aspect < MIN_ASPECT || aspect > MAX_ASPECT) {
    throw new BadCommandError(`--ar ${ar} is too extreme: Seedream allows from 1:16 to 16:1.`);
  }
  if (parsed !== undefined && parsed.kind !== "tier") {
    throw new BadCommandError(
      "Use either --size WIDTHxHEIGHT or --ar, not both (--ar works with --size 1K…4K).",
    );
  }
  const pixels = sizeForRatio(ratio, parsed?.tier ?? "2K");
  return `${pixels.width}x${pixels.height}`;
}

function parseModel(value: string): string {
  const lowered = value.toLowerCase().replace(/^v/, "");
  if (/^\d+(\.\d+)?$/.test(lowered)) {
    const alias = lowered.includes(".") ? lowered : `${lowered}.0`;
    if (MODEL_ALIASES.has(alias)) return alias;
    throw new BadCommandError(`There is no Seedream ${value}: use --model 4.0, 4.5, 5.0, 3.0 or a model id.`);
  }
  if (!/^[\w][\w.:/-]*$/.test(value)) throw new BadCommandError(`"${value}" is not a model id.`);
  return value;
}

function parseSeed(value: string): number {
  const seed = /^-?\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seed >= -1 && seed <= 2_147_483_647)) {
    throw new BadCommandError(`--seed must be a whole number from -1 to 2147483647 (got "${value}").`);
  }
  return seed;
}
