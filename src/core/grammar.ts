import { parseSize, wireSize } from "../seedream/validate.js";
import { BadCommandError } from "./errors.js";
import { promptTooLongSentence } from "./messages.js";

/**
 * The command language: `<prompt> [--flag value]…`, `help`, `cancel`, `usage`, `settings …`. Flags may sit anywhere;
 * everything else is the prompt, kept exactly as typed (full-width spaces and Chinese
 * punctuation included) apart from the removed flags. It only parses: what a model accepts is
 * checked once, against that model, by the Seedream client's validation.
 */

export interface GenerationParams {
  prompt: string;
  /** Images asked for; above 1 means group generation. */
  n: number;
  /** Wire form (`2K`, `2560x1440`, `adaptive`); undefined = the model's default. */
  size?: string;
  /** `--ar W:H`; the model turns it into its pixel size (at `size` when that is a tier). */
  ar?: { width: number; height: number };
  /** A version (`4.5`, `v4`) or a model/endpoint id, as typed. */
  model?: string;
  seed?: number;
  watermark: boolean;
  fast: boolean;
  /** `--format png|jpeg`: the generated images' format (5.0 family). */
  format?: "png" | "jpeg";
  /** `--web`: let the model search the web (5.0 lite). */
  web: boolean;
  /** `#N` picks (1-based), in the order written; only read when the message replies to images. */
  picks: number[];
}

/** A user's saved defaults (`settings --model 4.0 --size 2K --n 2 --no-watermark`). */
export interface UserSettings {
  n?: number;
  size?: string;
  ar?: { width: number; height: number };
  model?: string;
  watermark?: boolean;
}

export type SettingsCommand =
  | { kind: "settings"; action: "show" }
  | { kind: "settings"; action: "reset" }
  | { kind: "settings"; action: "set"; settings: UserSettings };

export type Command =
  | { kind: "help" }
  | { kind: "cancel" }
  | { kind: "usage" }
  | SettingsCommand
  | { kind: "generate"; params: GenerationParams };

export interface GrammarDefaults {
  size: string | undefined;
  watermark: boolean;
  /** Upper bound for `--n` (MAX_IMAGES_PER_REQUEST). */
  maxImages: number;
  /** Longest prompt in characters (MAX_PROMPT_CHARS); no limit when absent. */
  maxPromptChars?: number;
}

export interface ParseOptions {
  defaults: GrammarDefaults;
  /** `#N` is a pick only in a reply to images; elsewhere it stays in the prompt ("a sign saying #1"). */
  allowPicks?: boolean;
  /** The user's saved settings: between the flags typed (which win) and `defaults`. */
  user?: UserSettings;
}

const HELP_WORDS = new Set(["help", "--help", "-h", "?", "？", "帮助"]);
const CANCEL_WORDS = new Set(["cancel", "stop", "取消"]);
const USAGE_WORDS = new Set(["usage", "用量"]);
const SETTINGS_WORDS = new Set(["settings", "设置"]);
const VALUE_FLAGS = new Set(["n", "size", "ar", "model", "seed", "format"]);
const SWITCH_FLAGS = new Set(["watermark", "no-watermark", "fast", "web"]);

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

interface Flags {
  /** The text without flags and picks, as typed. */
  prompt: string;
  values: Map<string, string>;
  switches: Set<string>;
  picks: number[];
}

function readFlags(text: string, allowPicks: boolean): Flags {
  const tokens = tokenize(text);
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const picks: number[] = [];
  const kept: Token[] = [];

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const pick = allowPicks ? PICK.exec(token.text) : null;
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
  if (switches.has("watermark") && switches.has("no-watermark")) {
    throw new BadCommandError("Use either --watermark or --no-watermark, not both.");
  }
  return { prompt, values, switches, picks };
}

export function parseCommand(text: string, options: ParseOptions): Command {
  const trimmed = text.trim();
  const lowered = trimmed.toLowerCase();
  if (trimmed === "" || HELP_WORDS.has(lowered)) return { kind: "help" };
  if (CANCEL_WORDS.has(lowered)) return { kind: "cancel" };
  if (USAGE_WORDS.has(lowered)) return { kind: "usage" };
  const settings = parseSettings(trimmed, options.defaults.maxImages);
  if (settings !== undefined) return settings;

  const { prompt, values, switches, picks } = readFlags(text, options.allowPicks === true);
  if (prompt === "") throw new BadCommandError("Write a prompt describing the image you want.");
  // Characters as people count them (code points), not UTF-16 units: 一 and 🦊 are one each.
  const length = [...prompt].length;
  const limit = options.defaults.maxPromptChars;
  if (limit !== undefined && length > limit) throw new BadCommandError(promptTooLongSentence(length, limit));

  const user = options.user ?? {};
  const params: GenerationParams = {
    prompt,
    n: values.has("n")
      ? parseCount(values.get("n"), options.defaults.maxImages)
      : Math.min(user.n ?? 1, options.defaults.maxImages),
    watermark: switches.has("watermark")
      ? true
      : switches.has("no-watermark")
        ? false
        : (user.watermark ?? options.defaults.watermark),
    fast: switches.has("fast"),
    web: switches.has("web"),
    picks,
  };
  const typedSize = readSize(values.get("size"));
  const typedAr = values.get("ar");
  if (typedSize !== undefined || typedAr !== undefined) {
    if (typedAr !== undefined) params.ar = readRatio(typedAr);
    // The default size is a default: with --ar it would fight the ratio, so only a typed size joins it.
    const size = typedSize ?? (typedAr === undefined ? options.defaults.size : undefined);
    if (size !== undefined) params.size = size;
  } else {
    // Nothing typed: the user's saved size or ratio, then the configured default.
    if (user.ar !== undefined) params.ar = user.ar;
    const size = user.size ?? (user.ar === undefined ? options.defaults.size : undefined);
    if (size !== undefined) params.size = size;
  }
  const model = values.get("model");
  if (model !== undefined) params.model = parseModel(model);
  else if (user.model !== undefined) params.model = user.model;
  const format = values.get("format");
  if (format !== undefined) params.format = readFormat(format);
  const seed = values.get("seed");
  if (seed !== undefined) params.seed = parseSeed(seed);
  return { kind: "generate", params };
}

/**
 * `settings` (show), `settings reset`, `settings --flags…` (save: the generation flags, parsed
 * the same way). Undefined when the text is a prompt that merely starts with the word
 * ("settings of a medieval castle").
 */
function parseSettings(text: string, maxImages: number): SettingsCommand | undefined {
  const [first = ""] = text.split(/\s+/u);
  if (!SETTINGS_WORDS.has(first.toLowerCase())) return undefined;
  const remainder = text.slice(first.length).trim();
  if (remainder === "") return { kind: "settings", action: "show" };
  if (remainder.toLowerCase() === "reset") return { kind: "settings", action: "reset" };
  const { prompt, values, switches } = readFlags(remainder, false);
  if (values.size === 0 && switches.size === 0) return undefined;
  if (prompt !== "") {
    throw new BadCommandError(
      `settings takes only flags, such as \`settings --model 4.0 --size 2K --n 2 --no-watermark\`, or \`settings reset\` ("${prompt}" is not a flag).`,
    );
  }
  for (const flag of ["seed", "fast", "web", "format"]) {
    if (values.has(flag) || switches.has(flag)) {
      throw new BadCommandError(
        `--${flag} can't be saved as a default: type it in the request that needs it.`,
      );
    }
  }
  const settings: UserSettings = {};
  if (values.has("n")) settings.n = parseCount(values.get("n"), maxImages);
  const size = readSize(values.get("size"));
  if (size !== undefined) settings.size = size;
  const ar = values.get("ar");
  if (ar !== undefined) settings.ar = readRatio(ar);
  const model = values.get("model");
  if (model !== undefined) settings.model = parseModel(model);
  if (switches.has("watermark")) settings.watermark = true;
  if (switches.has("no-watermark")) settings.watermark = false;
  return { kind: "settings", action: "set", settings };
}

function parseCount(value: string | undefined, max: number): number {
  if (value === undefined) return 1;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max)) {
    throw new BadCommandError(`--n must be a whole number from 1 to ${max} (got "${value}").`);
  }
  return n;
}

function readSize(size: string | undefined): string | undefined {
  if (size === undefined) return undefined;
  const parsed = parseSize(size);
  if (parsed === undefined) {
    throw new BadCommandError(`"${size}" is not a size: use 1K, 2K, 3K, 4K or WIDTHxHEIGHT like 2048x2048.`);
  }
  return wireSize(parsed);
}

/** Reads `16:9`, `16/9`, `2.39:1` (full-width digits and colon too). */
function readRatio(text: string): { width: number; height: number } {
  const match = /^(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)$/.exec(text.normalize("NFKC").trim());
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!(width > 0 && height > 0))
    throw new BadCommandError(`"${text}" is not an aspect ratio: write it like 16:9.`);
  return { width, height };
}

function readFormat(value: string): "png" | "jpeg" {
  const lowered = value.toLowerCase();
  if (lowered === "png") return "png";
  if (lowered === "jpeg" || lowered === "jpg") return "jpeg";
  throw new BadCommandError(`--format is png or jpeg (got "${value}").`);
}

function parseModel(value: string): string {
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
