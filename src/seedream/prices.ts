import { type ModelFamily, modelCapabilities } from "./models.js";
import { PROVIDERS, type ProviderId } from "./providers.js";

/**
 * What one delivered image costs, per provider and model: the one place to edit when a vendor
 * changes its prices. Only successful images are billed ("仅对成功生成图片按张数进行计费", the Ark
 * API reference in /work/shared/seeds/), so an estimate is price × delivered images.
 *
 * Prices as published, checked 2026-12-01:
 * - BytePlus ModelArk (USD): 4.0 $0.03, 4.5 $0.04, 5.0 lite $0.035 — BytePlus's ModelArk pricing
 *   as gathered in /work/shared/seedream-api.md ("Prices per image on BytePlus (USD, as listed in
 *   2026)"); the same figures are mirrored by docs.gogogotoken.ai/overseas/seedream-models.md
 *   ("aligned with BytePlus ModelArk's official USD prices, 2026-06") and docs.apiyi.com
 *   (4.0 "official $0.03"). 3.0 t2i and SeedEdit 3.0 $0.03: docs.dev.xavier.icvr.xyz's BytePlus
 *   rate card (third party; BytePlus's own page was not reachable from here).
 * - Volcengine Ark (CNY): 4.0 ¥0.20 — mirrored by docs.kapon.cloud/doubao/image-seedream-4.0-n
 *   ("0.2 元 / 张", an Ark reseller at list price). 4.5 ¥0.25, 5.0 lite ¥0.22, 3.0 t2i ¥0.259,
 *   SeedEdit 3.0 ¥0.30: Ark's 模型服务价格 page (volcengine.com/docs/82379), not re-checked from
 *   here — treat as estimates and set SEEDREAM_PRICE_PER_IMAGE if your invoice says otherwise.
 * - DMXAPI and Modelverse resell Ark's models in CNY at their own (usually lower) prices that are
 *   not published as a table: Ark's list price is used, an upper bound.
 * - demo: nothing is billed.
 * A model this table does not know (an Ark endpoint `ep-…`) is priced as the provider's default
 * model (Seedream 4.5).
 */

export interface Price {
  /** Per delivered image. */
  amount: number;
  /** ISO 4217: USD, CNY… */
  currency: string;
}

export interface CostEstimate {
  amount: number;
  currency: string;
}

// 5.0 Pro is priced by output size plus per extra reference: no flat price per image to list.
type PricedFamily = Exclude<ModelFamily, "unknown" | "seedream-5.0-pro">;

const USD = (amount: number): Price => ({ amount, currency: "USD" });
const CNY = (amount: number): Price => ({ amount, currency: "CNY" });

const ARK: Readonly<Record<PricedFamily, Price>> = {
  "seedream-4.0": CNY(0.2),
  "seedream-4.5": CNY(0.25),
  "seedream-5.0-lite": CNY(0.22),
  "seedream-3.0": CNY(0.259),
  "seededit-3.0": CNY(0.3),
};

const BYTEPLUS: Readonly<Record<PricedFamily, Price>> = {
  "seedream-4.0": USD(0.03),
  "seedream-4.5": USD(0.04),
  "seedream-5.0-lite": USD(0.035),
  "seedream-3.0": USD(0.03),
  "seededit-3.0": USD(0.03),
};

const FREE: Readonly<Record<PricedFamily, Price>> = {
  "seedream-4.0": USD(0),
  "seedream-4.5": USD(0),
  "seedream-5.0-lite": USD(0),
  "seedream-3.0": USD(0),
  "seededit-3.0": USD(0),
};

export const PRICE_TABLE = {
  ark: ARK,
  byteplus: BYTEPLUS,
  dmxapi: ARK,
  modelverse: ARK,
  demo: FREE,
} as const satisfies Record<ProviderId | "demo", Readonly<Record<PricedFamily, Price>>>;

export type PricedProvider = keyof typeof PRICE_TABLE;

/** The price of one image of `model` (an id or undefined = the provider's default) at `provider`. */
export function priceFor(provider: PricedProvider, model: string | undefined, override?: Price): Price {
  if (override !== undefined) return override;
  const table: Readonly<Record<PricedFamily, Price>> = PRICE_TABLE[provider];
  return table[pricedFamily(model ?? defaultModel(provider)) ?? defaultFamily(provider)];
}

/** Estimated cost of `images` delivered images; `override` is SEEDREAM_PRICE_PER_IMAGE. */
export function estimate(
  provider: PricedProvider,
  model: string | undefined,
  images: number,
  override?: Price,
): CostEstimate {
  const price = priceFor(provider, model, override);
  return { amount: roundMoney(price.amount * images), currency: price.currency };
}

/** Parses `0.04 USD` / `0.25 CNY` / `USD 0.04` (SEEDREAM_PRICE_PER_IMAGE); undefined when malformed. */
export function parsePrice(text: string): Price | undefined {
  const match = /^\s*(?:(\d+(?:\.\d+)?)\s*([A-Za-z]{3})|([A-Za-z]{3})\s*(\d+(?:\.\d+)?))\s*$/.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1] ?? match[4]);
  const currency = (match[2] ?? match[3] ?? "").toUpperCase();
  return Number.isFinite(amount) ? { amount, currency } : undefined;
}

/** Money with a cost of fractions of a cent per image: six decimals keep sums exact enough. */
function roundMoney(amount: number): number {
  return Math.round(amount * 1e6) / 1e6;
}

function pricedFamily(model: string): PricedFamily | undefined {
  const family = modelCapabilities(model).family;
  return family === "unknown" || family === "seedream-5.0-pro" ? undefined : family;
}

function defaultFamily(provider: PricedProvider): PricedFamily {
  return pricedFamily(defaultModel(provider)) ?? "seedream-4.5";
}

function defaultModel(provider: PricedProvider): string {
  return provider === "demo" ? PROVIDERS.ark.defaultModel : PROVIDERS[provider].defaultModel;
}
