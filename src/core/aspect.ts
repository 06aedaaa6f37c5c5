/**
 * `--ar W:H` → a pixel size. The vendor's recommended 4.x sizes are used where they exist
 * (they are what the models were tuned on); other ratios get the same pixel budget.
 */

const RECOMMENDED_2K: Readonly<Record<string, readonly [number, number]>> = {
  "1:1": [2048, 2048],
  "4:3": [2304, 1728],
  "3:4": [1728, 2304],
  "16:9": [2560, 1440],
  "9:16": [1440, 2560],
  "3:2": [2496, 1664],
  "2:3": [1664, 2496],
  "21:9": [3024, 1296],
};

/** Side of the square each tier stands for; the recommended table is the 2K row. */
const TIER_SIDE: Readonly<Record<string, number>> = { "1K": 1024, "2K": 2048, "3K": 3072, "4K": 4096 };

export const MIN_ASPECT = 1 / 16;
export const MAX_ASPECT = 16;

export interface Ratio {
  width: number;
  height: number;
}

/** Reads `16:9`, `16/9`, `2.39:1` (full-width digits and colon too); undefined when unreadable. */
export function parseRatio(text: string): Ratio | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)$/.exec(text.normalize("NFKC").trim());
  if (!match) return undefined;
  const width = Number(match[1]);
  const height = Number(match[2]);
  if (!(width > 0 && height > 0)) return undefined;
  return { width, height };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function reducedKey(ratio: Ratio): string | undefined {
  if (!Number.isInteger(ratio.width) || !Number.isInteger(ratio.height)) return undefined;
  const divisor = gcd(ratio.width, ratio.height);
  return `${ratio.width / divisor}:${ratio.height / divisor}`;
}

/** The table is written as the vendor labels ratios ("21:9"); lookups use lowest terms ("7:3"). */
const RECOMMENDED_BY_REDUCED_RATIO = new Map(
  Object.entries(RECOMMENDED_2K).map(([label, size]) => {
    const [width, height] = label.split(":").map(Number) as [number, number];
    return [reducedKey({ width, height }), size] as const;
  }),
);

const floorTo = (value: number, step: number): number => Math.max(step, Math.floor(value / step) * step);

/**
 * Pixel size for a ratio at a tier (default 2K). Callers check the ratio is within
 * [MIN_ASPECT, MAX_ASPECT] first; the model's own pixel limits are checked by validation.
 */
export function sizeForRatio(ratio: Ratio, tier = "2K"): { width: number; height: number } {
  const side = TIER_SIDE[tier.toUpperCase()] ?? 2048;
  const scale = side / 2048;
  const key = reducedKey(ratio);
  const recommended = key === undefined ? undefined : RECOMMENDED_BY_REDUCED_RATIO.get(key);
  if (recommended) {
    return { width: Math.round(recommended[0] * scale), height: Math.round(recommended[1] * scale) };
  }
  const r = ratio.width / ratio.height;
  // Rounding down keeps the pixel count within the tier (4K is the 4.x maximum); at 2K the loss
  // is at most 16 px per side, far above the 2560x1440 minimum of 4.5/5.0.
  const budget = side * side;
  return { width: floorTo(Math.sqrt(budget * r), 16), height: floorTo(Math.sqrt(budget / r), 16) };
}
