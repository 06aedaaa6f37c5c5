/**
 * What each Seedream model accepts. Matched by id pattern, not exact id, because the same model
 * is spelled `doubao-seedream-4-5-251128` (Ark), `seedream-4-5-251128` (BytePlus) and
 * `doubao-seedream-4.5` (Modelverse), and new date suffixes appear without notice.
 */

export type ModelFamily =
  | "seedream-4.0"
  | "seedream-4.5"
  | "seedream-5.0-lite"
  | "seedream-3.0"
  | "seededit-3.0"
  | "unknown";

export type SizeTier = "1K" | "2K" | "3K" | "4K";

export interface ModelCapabilities {
  family: ModelFamily;
  /** "Seedream 4.5"; for unknown ids, the id itself. */
  name: string;
  /** Tiers accepted as `size`; empty when only pixel sizes are. */
  tiers: readonly SizeTier[];
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
  /** Group generation (`sequential_image_generation: auto`). */
  group: boolean;
  stream: boolean;
  seed: boolean;
  guidanceScale: boolean;
  /** `optimize_prompt_options.mode = fast`. */
  fastMode: boolean;
  /** References plus generated images, per request. */
  maxTotalImages: number;
  /** Width/height ratio range a reference image may have. */
  referenceMaxAspect: number;
  /**
   * `--ar` at 2K: the vendor's recommended pixel size per ratio (what the model was tuned on),
   * keyed as the vendor labels ratios ("21:9"). Other ratios and tiers get the same pixel budget.
   */
  ratioSizes: Readonly<Record<string, readonly [number, number]>>;
}

/** The API's own ceiling for `max_images`, whatever the model. */
export const MAX_IMAGES_PER_REQUEST = 15;

/** The Seedream versions a user can pick by number (`--model 4.5`); each provider spells their ids. */
export const MODEL_ALIASES = ["3.0", "4.0", "4.5", "5.0"] as const;
export type ModelAlias = (typeof MODEL_ALIASES)[number];

export function isModelAlias(value: string): value is ModelAlias {
  return (MODEL_ALIASES as readonly string[]).includes(value);
}

/**
 * What `--model` names: an alias as typed (`4`, `v4.5`, `4.5`), a version we do not know
 * (`4.7`), or a model/endpoint id passed through.
 */
export function readModelName(
  typed: string,
): { kind: "alias"; alias: ModelAlias } | { kind: "unknown_version" } | { kind: "id"; id: string } {
  const lowered = typed.toLowerCase().replace(/^v/, "");
  if (!/^\d+(\.\d+)?$/.test(lowered)) return { kind: "id", id: typed };
  const alias = lowered.includes(".") ? lowered : `${lowered}.0`;
  return isModelAlias(alias) ? { kind: "alias", alias } : { kind: "unknown_version" };
}

export interface PixelBound {
  width: number;
  height: number;
}

const ASPECT = { minAspect: 1 / 16, maxAspect: 16, referenceMaxAspect: 16 } as const;
/** 3.x models take only moderate reference shapes. */
const ASPECT_3X = { ...ASPECT, referenceMaxAspect: 3 } as const;
const px = (width: number, height: number): PixelBound => ({ width, height });

/** The vendor's recommended 4.x sizes at 2K (Ark image generation API reference, `size`). */
const RATIO_SIZES_4X: ModelCapabilities["ratioSizes"] = {
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:4": [1728, 2304],
  "16:9": [2560, 1440],
  "9:16": [1440, 2560],
  "3:2": [2496, 1664],
  "2:3": [1664, 2496],
  "21:9": [3024, 1296],
};

const SEEDREAM_4_0: Omit<ModelCapabilities, "name"> = {
  family: "seedream-4.0",
  tiers: ["1K", "2K", "4K"],
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
  fastMode: true,
  maxTotalImages: 15,
  ratioSizes: RATIO_SIZES_4X,
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
    pattern: /seedream[-_]?5[-.]0/i,
    caps: {
      ...SEEDREAM_4_0,
      family: "seedream-5.0-lite",
      name: "Seedream 5.0 lite",
      tiers: ["2K", "3K", "4K"],
      minPixels: px(2560, 1440),
      fastMode: false,
    },
  },
  {
    pattern: /seedream[-_]?3[-.]0/i,
    caps: {
      family: "seedream-3.0",
      name: "Seedream 3.0",
      tiers: [],
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
      maxTotalImages: 1,
      ratioSizes: RATIO_SIZES_4X,
    },
  },
  {
    pattern: /seededit/i,
    caps: {
      family: "seededit-3.0",
      name: "SeedEdit 3.0",
      tiers: [],
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
      maxTotalImages: 2,
      ratioSizes: {},
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
    maxTotalImages: 15,
    ratioSizes: RATIO_SIZES_4X,
  };
}

export function modelCapabilities(modelId: string): ModelCapabilities {
  // Endpoint ids say nothing about the model behind them, even if they happen to contain digits.
  if (/^ep-/i.test(modelId)) return unknownModel(modelId);
  const match = TABLE.find((entry) => entry.pattern.test(modelId));
  return match ? match.caps : unknownModel(modelId);
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
 * `--ar W:H` on this model at a tier (2K when none): its recommended size where it has one,
 * scaled to the tier, else the tier's pixel budget in that shape. The result is still checked
 * against the model's pixel limits.
 */
export function sizeForRatio(
  ratio: { width: number; height: number },
  caps: ModelCapabilities,
  tier: SizeTier = "2K",
): PixelBound {
  const scale = TIER_SIDE[tier] / TIER_SIDE["2K"];
  const key = reducedKey(ratio.width, ratio.height);
  const recommended = Object.entries(caps.ratioSizes).find(([label]) => {
    const [w, h] = label.split(":").map(Number) as [number, number];
    return reducedKey(w, h) === key;
  })?.[1];
  if (key !== undefined && recommended) {
    return { width: Math.round(recommended[0] * scale), height: Math.round(recommended[1] * scale) };
  }
  const r = ratio.width / ratio.height;
  // Rounding down keeps the pixel count within the tier; at 2K the loss is at most 16 px a side.
  const budget = TIER_SIDE[tier] ** 2;
  return { width: floorTo(Math.sqrt(budget * r), 16), height: floorTo(Math.sqrt(budget / r), 16) };
}
