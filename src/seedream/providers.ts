/**
 * Provider profiles: the few ways the vendors differ while speaking the same
 * `POST {baseUrl}/images/generations` API.
 */

import { MODEL_ALIASES, type ModelAlias, modelCapabilities, readModelName } from "./models.js";
import type { ModelOffer } from "./types.js";

export type ProviderId = "ark" | "byteplus" | "dmxapi" | "modelverse";
export type AuthScheme = "bearer" | "raw";

export interface ProviderProfile {
  id: ProviderId;
  /** Human name for status lines and errors. */
  name: string;
  /** No trailing slash. */
  baseUrl: string;
  /** `bearer` sends `Authorization: Bearer KEY`; `raw` sends `Authorization: KEY` (SEEDREAM_AUTH_SCHEME overrides). */
  auth: AuthScheme;
  /** The body field that carries reference images. */
  referenceField: "image" | "images";
  /** The id this provider knows each Seedream version by (vendors spell them differently); absent: not offered. */
  modelIds: Readonly<Partial<Record<ModelAlias, string>>>;
  /** Model used when neither the request nor SEEDREAM_MODEL names one: the provider's Seedream 4.5 id. */
  defaultModel: string;
  /**
   * Hosts `response_format: url` images come from (`.domain` = any host under it); nothing else
   * is downloaded (SEEDREAM_IMAGE_HOSTS adds to it).
   */
  imageHosts: readonly string[];
  /** DMXAPI strips the watermark whatever we ask; we still send `watermark: false` explicitly. */
  forcesWatermarkOff: boolean;
}

const ARK_MODEL_IDS = {
  "3.0": "doubao-seedream-3-0-t2i-250415",
  "4.0": "doubao-seedream-4-0-250828",
  "4.5": "doubao-seedream-4-5-251128",
  // Ark 5.0 lite is doubao-seedream-5-0-260128 (also spelled doubao-seedream-5-0-lite-260128) (seedream-api.md).
  "5.0": "doubao-seedream-5-0-260128",
  "5.0-lite": "doubao-seedream-5-0-260128",
  // Ark 5.0 Pro (seedream-api.md, 5.0 table; issue 10).
  "5.0-pro": "doubao-seedream-5-0-pro-260628",
} as const satisfies Record<ModelAlias, string>;

/** BytePlus serves the same snapshots as Ark, without the `doubao-` prefix (Pro is `dola-`). */
const BYTEPLUS_MODEL_IDS = {
  "3.0": "seedream-3-0-t2i-250415",
  "4.0": "seedream-4-0-250828",
  "4.5": "seedream-4-5-251128",
  // BytePlus ModelArk: seedream-5-0-260128 (seedream-api.md, 5.0 table).
  "5.0": "seedream-5-0-260128",
  "5.0-lite": "seedream-5-0-260128",
  // BytePlus ModelArk: dola-seedream-5-0-pro-260628 (seedream-api.md, 5.0 table).
  "5.0-pro": "dola-seedream-5-0-pro-260628",
} as const satisfies Record<ModelAlias, string>;

/** Modelverse names versions with a dot and no snapshot date; no 5.0 Pro id is documented. */
const MODELVERSE_MODEL_IDS = {
  "3.0": "doubao-seedream-3.0-t2i",
  "4.0": "doubao-seedream-4.0",
  "4.5": "doubao-seedream-4.5",
  "5.0": "doubao-seedream-5.0",
  "5.0-lite": "doubao-seedream-5.0",
} as const satisfies Partial<Record<ModelAlias, string>>;

export const PROVIDERS: Readonly<Record<ProviderId, ProviderProfile>> = {
  ark: {
    id: "ark",
    name: "Volcengine Ark",
    baseUrl: "https://ark.cn-beijing.volces.com/api/v3",
    auth: "bearer",
    referenceField: "image",
    modelIds: ARK_MODEL_IDS,
    defaultModel: ARK_MODEL_IDS["4.5"],
    // Ark's signed TOS links: ark-content-generation-v2-cn-beijing.tos-cn-beijing.volces.com (seeds/000).
    imageHosts: [".volces.com"],
    forcesWatermarkOff: false,
  },
  byteplus: {
    id: "byteplus",
    name: "BytePlus ModelArk",
    baseUrl: "https://ark.ap-southeast.bytepluses.com/api/v3",
    auth: "bearer",
    referenceField: "image",
    modelIds: BYTEPLUS_MODEL_IDS,
    defaultModel: BYTEPLUS_MODEL_IDS["4.5"],
    // BytePlus serves its TOS links under its own domain, as Ark does under volces.com.
    imageHosts: [".bytepluses.com"],
    forcesWatermarkOff: false,
  },
  dmxapi: {
    id: "dmxapi",
    name: "DMXAPI",
    baseUrl: "https://www.dmxapi.cn/v1",
    // Two of DMXAPI's three pages (seeds/) send `Authorization: Bearer KEY`; OpenAI-style gateways accept it.
    auth: "bearer",
    referenceField: "image",
    modelIds: ARK_MODEL_IDS,
    defaultModel: ARK_MODEL_IDS["4.5"],
    // DMXAPI hands out Ark's own TOS links (seeds/000, 001, 002).
    imageHosts: [".volces.com"],
    forcesWatermarkOff: true,
  },
  modelverse: {
    id: "modelverse",
    name: "Modelverse",
    baseUrl: "https://api.modelverse.cn/v1",
    auth: "bearer",
    referenceField: "images",
    modelIds: MODELVERSE_MODEL_IDS,
    defaultModel: MODELVERSE_MODEL_IDS["4.5"],
    // umodelverse-inference.cn-wlcb.ufileos.com (seeds/003).
    imageHosts: [".ufileos.com"],
    forcesWatermarkOff: false,
  },
};

export function isProviderId(value: string): value is ProviderId {
  return Object.hasOwn(PROVIDERS, value);
}

/**
 * `--model 4.5` → the id this provider knows that version by; any other id is passed through.
 * `unknown_version` for a version number no Seedream has, `not_offered` for one this provider
 * does not serve.
 */
export function modelIdFor(
  typed: string,
  profile: ProviderProfile,
): { id: string } | { problem: "unknown_version" | "not_offered" } {
  const name = readModelName(typed);
  if (name.kind === "id") return { id: name.id };
  if (name.kind === "unknown_version") return { problem: "unknown_version" };
  const id = profile.modelIds[name.alias];
  return id === undefined ? { problem: "not_offered" } : { id };
}

/**
 * The profile with SEEDREAM_BASE_URL and SEEDREAM_AUTH_SCHEME (when set) taking precedence over
 * the profile's own URL and auth style.
 */
export function resolveProvider(
  id: ProviderId = "ark",
  baseUrlOverride?: string,
  authOverride?: AuthScheme,
): ProviderProfile {
  const profile = { ...PROVIDERS[id], ...(authOverride ? { auth: authOverride } : {}) };
  if (baseUrlOverride === undefined || baseUrlOverride.trim() === "") return profile;
  return { ...profile, baseUrl: baseUrlOverride.trim().replace(/\/+$/, "") };
}

/** The versions this provider serves, once each (`5.0` and `5.0-lite` are one model). */
export function modelOffers(profile: ProviderProfile): ModelOffer[] {
  const seen = new Set<string>();
  const offers: ModelOffer[] = [];
  for (const alias of MODEL_ALIASES) {
    const id = profile.modelIds[alias];
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    offers.push({ alias, id, caps: modelCapabilities(id) });
  }
  return offers;
}

export function authorizationHeader(profile: ProviderProfile, apiKey: string): string {
  return profile.auth === "bearer" ? `Bearer ${apiKey}` : apiKey;
}
