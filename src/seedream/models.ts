/**
 * What each Seedream model accepts. Matched by id pattern, not exact id, because the same model
 * is spelled `doubao-seedream-4-5-251128` (Ark), `seedream-4-5-251128` (BytePlus) and
 * `doubao-seedream-4.5` (Modelverse), and new date suffixes appear without notice.
 */

export type ModelFamily =
  | "seedream-4.0"
  | "seedream-4.5"
  | "seedream-5.0-lite"
  | "seedream-5.0-pro"
  | "seedream-3.0"
  | "seededit-3.0"
  | "unknown";

export type SizeTier = "1K" | "2K" | "3K" | "4K";
export type OutputFormat = "png" | "jpeg";

export interface ModelCapabilities {
  family: ModelFamily;
  /** "Seedream 4.5"; for unknown ids, the id itself. */
  name: string;
  /** Tiers accepted as `size`; empty when only pixel sizes are. */
  tiers: readonly SizeTier[];
  /** Tiers the API lists but does not reliably accept: refused, with a sentence. */
  unreliableTiers: readonly SizeTier[];
  /** Whether `WIDTHxHEIGHT` sizes are accepted, and the pixel-count range for them (as the vendor words it). */
  pixelSizes: boolean;
  minPixels: PixelBound;
  maxPixels: PixelBound;
  /** Width/height ratio range for pixel sizes. */
  minAspect: number;
  maxAspect: number;
  /** Only `adaptive` (SeedEdit: output follows the reference). */
  adaptiveOnly: boolean;
  minReferences: number;
  maxReferences: number;
  /** Group generation (`sequential_image_generation: auto`); without it `--n` is N requests. */
  group: boolean;
  stream: boolean;
  seed: boolean;
  guidanceScale: boolean;
  /** `optimize_prompt_options.mode = fast`. */
  fastMode: boolean;
  /** `output_format` values; empty: the field is not sent (JPEG only). */
  outputFormats: readonly OutputFormat[];
  /** `tools: [{"type":"web_search"}]`. */
  webSearch: boolean;
  /** References plus generated images, per request. */
  maxTotalImages: number;
  /** Width/height ratio range a reference image may have. */
  referenceMaxAspect: number;
  /**
   * `--ar`: the vendor's recommended pixel size per ratio and tier (what the model was tuned on),
   * keyed as the vendor labels ratios ("21:9"). A tier without a row scales the 2K row; other
   * ratios get the tier's pixel budget.
   */
  ratioSizes: Readonly<Partial<Record<SizeTier, RatioTable>>>;
  /** Slowest expected time for one image, for a non-stream request's wait for headers. */
  slowestImageMs: number;
}

export type RatioTable = Readonly<Record<string, readonly [number, number]>>;

/** The API's own ceiling for `max_images` (and ours for `--n` on models without groups). */
export const MAX_IMAGES_PER_REQUEST = 15;

/**
 * The Seedream versions a user can pick by number (`--model 4.5`); each provider spells their
 * ids (providers.ts). `5.0` is 5.0 lite, as the vendors name it.
 */
export const MODEL_ALIASES = ["3.0", "4.0", "4.5", "5.0", "5.0-lite", "5.0-pro"] as const;
export type ModelAlias = (typeof MODEL_ALIASES)[number];

export function isModelAlias(value: string): value is ModelAlias {
  return (MODEL_ALIASES as readonly string[]).includes(value);
}

/**
 * What `--model` names: an alias as typed (`4`, `v4.5`, `5.0-pro`, `5-lite`), a version we do
 * not know (`4.7`), or a model/endpoint id passed through.
 */
export function readModelName(
  typed: string,
): { kind: "alias"; alias: ModelAlias } | { kind: "unknown_version" } | { kind: "id"; id: string } {
  const match = /^v?(\d+)(?:\.(\d+))?(?:[-_ ]?(lite|pro))?$/i.exec(typed.trim());
  if (!match) return { kind: "id", id: typed };
  const version = `${match[1]}.${match[2] ?? "0"}`;
  const variant = match[3]?.toLowerCase();
  const alias = variant ? `${version}-${variant}` : version;
  return isModelAlias(alias) ? { kind: "alias", alias } : { kind: "unknown_version" };
}

export interface PixelBound {
  width: number;
  height: number;
}

const ASPECT = { minAspect: 1 / 16, maxAspect: 16, referenceMaxAspect: 16 } as const;
/** 3.x models take only moderate reference shapes (digest: reference aspect in [1/3, 3]). */
const ASPECT_3X = { ...ASPECT, referenceMaxAspect: 3 } as const;
const px = (width: number, height: number): PixelBound => ({ width, height });
const MINUTE = 60_000;

/** The vendor's recommended 4.x sizes at 2K (Ark image generation API reference, `size`). */
const RATIO_SIZES_4X: RatioTable = {
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:4": [1728, 2304],
  "16:9": [2560, 1440],
  "9:16": [1440, 2560],
  "3:2": [2496, 1664],
  "2:3": [1664, 2496],
  "21:9": [3024, 1296],
};

/** 5.0 lite at 2K (BytePlus/Ark 5.0 size table, as mirrored by docs.siraya.ai and open.dieyuyun.com). */
const RATIO_SIZES_5_0_2K: RatioTable = {
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:4": [1728, 2304],
  "16:9": [2848, 1600],
  "9:16": [1600, 2848],
  "3:2": [2496, 1664],
  "2:3": [1664, 2496],
  "21:9": [3136, 1344],
};

/** 5.0 lite at 3K (same sources: open.dieyuyun.com, apixo.ai Seedream 5.0 size presets). */
const RATIO_SIZES_5_0_3K: RatioTable = {
  "1:1": [3072, 3072],
  "4:3": [3456, 2592],
  "3:4": [2592, 3456],
  "16:9": [4096, 2304],
  "9:16": [2304, 4096],
  "3:2": [3744, 2496],
  "2:3": [2496, 3744],
  "21:9": [4704, 2016],
};

const SEEDREAM_4_0: Omit<ModelCapabilities, "name"> = {
  family: "seedream-4.0",
  tiers: ["1K", "2K", "4K"],
  unreliableTiers: [],
  pixelSizes: true,
  // The digest says 1280x720 while an early vendor page said 1024x1024: accept the lower bound.
  minPixels: px(1280, 720),
  maxPixels: px(4096, 4096),
  ...ASPECT,
  adaptiveOnly: false,
  minReferences: 0,
  maxReferences: 14,
  group: true,
  stream: true,
  seed: false,
  guidanceScale: false,
  // optimize_prompt_options.mode=fast: 4.0 and 5.0 Pro only (seedream-api.md, later pages).
  fastMode: true,
  outputFormats: [],
  webSearch: false,
  maxTotalImages: 15,
  ratioSizes: { "2K": RATIO_SIZES_4X },
  slowestImageMs: MINUTE,
};

const SEEDREAM_5_0_LITE: Omit<ModelCapabilities, "name"> = {
  ...SEEDREAM_4_0,
  family: "seedream-5.0-lite",
  // 2K/3K (BytePlus ModelArk reference); 4K accepted by some gateways only (seedream-api.md).
  tiers: ["2K", "3K"],
  unreliableTiers: ["4K"],
  minPixels: px(2560, 1440),
  // [2560x1440, 3072x3072x1.1025] (docs.jiekou.ai Seedream 5.0 lite): 3225² is just inside.
  maxPixels: px(3225, 3225),
  // optimize_prompt_options.mode: standard only (seedream-api.md, 5.0 table).
  fastMode: false,
  // output_format png|jpeg and tools web_search (BytePlus reference; volcengine SDK image types).
  outputFormats: ["png", "jpeg"],
  webSearch: true,
  ratioSizes: { "2K": RATIO_SIZES_5_0_2K, "3K": RATIO_SIZES_5_0_3K },
};

const TABLE: ReadonlyArray<{ pattern: RegExp; caps: ModelCapabilities }> = [
  {
    pattern: /seedream[-_]?4[-.]0/i,
    caps: { ...SEEDREAM_4_0, name: "Seedream 4.0" },
  },
  {
    pattern: /seedream[-_]?4[-.]5/i,
    caps: {
      ...SEEDREAM_4_0,
      family: "seedream-4.5",
      name: "Seedream 4.5",
      tiers: ["2K", "4K"],
      minPixels: px(2560, 1440),
      fastMode: false,
    },
  },
  {
    // Ark doubao-seedream-5-0-pro-260628, BytePlus dola-seedream-5-0-pro-260628 (issue 10, seedream-api.md).
    pattern: /seedream[-_]?5[-.]0[-_.]?pro/i,
    caps: {
      ...SEEDREAM_4_0,
      family: "seedream-5.0-pro",
      name: "Seedream 5.0 Pro",
      // 1K/2K, pixel sizes up to about 4.19 MP (= 2048x2048) (seedream-api.md, 5.0 table).
      tiers: ["1K", "2K"],
      minPixels: px(1024, 1024),
      maxPixels: px(2048, 2048),
      // At most 10 references (seedream-api.md, 5.0 table).
      maxReferences: 10,
      maxTotalImages: 11,
      // `stream` or `sequential_image_generation` in the body, even `disabled`, is a 400.
      group: false,
      stream: false,
      fastMode: true,
      outputFormats: ["png", "jpeg"],
      // No vendor size table for Pro: ratios get the tier's pixel budget.
      ratioSizes: {},
      // About 2 minutes per image (seedream-api.md): headers come only once it is done.
      slowestImageMs: 4 * MINUTE,
    },
  },
  {
    // Ark doubao-seedream-5-0-260128 (alias doubao-seedream-5-0-lite-260128), BytePlus seedream-5-0-260128.
    pattern: /seedream[-_]?5[-.]0/i,
    caps: { ...SEEDREAM_5_0_LITE, name: "Seedream 5.0 lite" },
  },
  {
    pattern: /seedream[-_]?3[-.]0/i,
    caps: {
      family: "seedream-3.0",
      name: "Seedream 3.0",
      tiers: [],
      unreliableTiers: [],
      pixelSizes: true,
      minPixels: px(512, 512),
      maxPixels: px(2048, 2048),
      ...ASPECT_3X,
      adaptiveOnly: false,
      minReferences: 0,
      maxReferences: 0,
      group: false,
      stream: false,
      seed: true,
      guidanceScale: true,
      fastMode: false,
      outputFormats: [],
      webSearch: false,
      maxTotalImages: 1,
      ratioSizes: { "2K": RATIO_SIZES_4X },
      slowestImageMs: MINUTE,
    },
  },
  {
    pattern: /seededit/i,
    caps: {
      family: "seededit-3.0",
      name: "SeedEdit 3.0",
      tiers: [],
      unreliableTiers: [],
      pixelSizes: false,
      minPixels: px(0, 0),
      maxPixels: px(6000, 6000),
      ...ASPECT_3X,
      adaptiveOnly: true,
      minReferences: 1,
      maxReferences: 1,
      group: false,
      stream: false,
      seed: true,
      guidanceScale: true,
      fastMode: false,
      outputFormats: [],
      webSearch: false,
      maxTotalImages: 2,
      ratioSizes: {},
      slowestImageMs: MINUTE,
    },
  },
];

/**
 * Unknown ids (an Ark endpoint `ep-…`, a model released after this table) get the widest
 * envelope any Seedream model accepts: the API is the judge, we only stop the impossible.
 */
function unknownModel(id: string): ModelCapabilities {
  return {
    family: "unknown",
    name: id,
    tiers: ["1K", "2K", "3K", "4K"],
    unreliableTiers: [],
    pixelSizes: true,
    minPixels: px(512, 512),
    maxPixels: px(4096, 4096),
    ...ASPECT,
    adaptiveOnly: false,
    minReferences: 0,
    maxReferences: 14,
    group: true,
    stream: true,
    seed: true,
    guidanceScale: true,
    fastMode: true,
    outputFormats: ["png", "jpeg"],
    webSearch: true,
    maxTotalImages: 15,
    ratioSizes: { "2K": RATIO_SIZES_4X },
    slowestImageMs: 4 * MINUTE,
  };
}

export function modelCapabilities(modelId: string): ModelCapabilities {
  // Endpoint ids say nothing about the model behind them, even if they happen to contain digits.
  if (/^ep-/i.test(modelId)) return unknownModel(modelId);
  const match = TABLE.find((entry) => entry.pattern.test(modelId));
  return match ? match.caps : unknownModel(modelId);
}

/** The names of the known models that have a capability ("Seedream 4.0", "Seedream 5.0 Pro"). */
export function modelNamesWith(has: (caps: ModelCapabilities) => boolean): string[] {
  return TABLE.filter((entry) => has(entry.caps)).map((entry) => entry.caps.name);
}

/** The known models, in table order (for help texts). */
export function knownModels(): readonly ModelCapabilities[] {
  return TABLE.map((entry) => entry.caps);
}

export function describeModel(modelId: string): string {
  return modelCapabilities(modelId).name;
}

/** Side of the square each tier stands for; `ratioSizes` is the 2K row. */
const TIER_SIDE: Readonly<Record<SizeTier, number>> = { "1K": 1024, "2K": 2048, "3K": 3072, "4K": 4096 };

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Ratios are looked up in lowest terms ("21:9" is "7:3"); fractional ratios have no entry. */
function reducedKey(width: number, height: number): string | undefined {
  if (!Number.isInteger(width) || !Number.isInteger(height)) return undefined;
  const divisor = gcd(width, height);
  return `${width / divisor}:${height / divisor}`;
}

const floorTo = (value: number, step: number): number => Math.max(step, Math.floor(value / step) * step);

/**
 * `--ar W:H` on this model at a tier (2K when none): its recommended size for that tier where
 * it has one, else its 2K size scaled to the tier, else the tier's pixel budget in that shape.
 * The result is still checked against the model's pixel limits.
 */
export function sizeForRatio(
  ratio: { width: number; height: number },
  caps: ModelCapabilities,
  tier: SizeTier = "2K",
): PixelBound {
  const key = reducedKey(ratio.width, ratio.height);
  const lookup = (table: RatioTable | undefined) =>
    key === undefined || table === undefined
      ? undefined
      : Object.entries(table).find(([label]) => {
          const [w, h] = label.split(":").map(Number) as [number, number];
          return reducedKey(w, h) === key;
        })?.[1];
  const exact = lookup(caps.ratioSizes[tier]);
  if (exact) return { width: exact[0], height: exact[1] };
  const scale = TIER_SIDE[tier] / TIER_SIDE["2K"];
  const at2K = lookup(caps.ratioSizes["2K"]);
  if (at2K) return { width: Math.round(at2K[0] * scale), height: Math.round(at2K[1] * scale) };
  const r = ratio.width / ratio.height;
  // Rounding down keeps the pixel count within the tier; at 2K the loss is at most 16 px a side.
  const budget = TIER_SIDE[tier] ** 2;
  return { width: floorTo(Math.sqrt(budget * r), 16), height: floorTo(Math.sqrt(budget / r), 16) };
}
