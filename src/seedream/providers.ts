/**
 * Provider profiles: the few ways the vendors differ while speaking the same
 * `POST {baseUrl}/images/generations` API.
 */

import { type ModelAlias, readModelName } from "./models.js";

export type ProviderId = "ark" | "byteplus" | "dmxapi" | "modelverse";

export interface ProviderProfile {
  id: ProviderId;
  /** Human name for status lines and errors. */
  name: string;
  /** No trailing slash. */
  baseUrl: string;
  /** `bearer` sends `Authorization: Bearer KEY`; `raw` sends `Authorization: KEY` (DMXAPI today). */
  auth: "bearer" | "raw";
  /** The body field that carries reference images. */
  referenceField: "image" | "images";
  /** The id this provider knows each Seedream version by: vendors spell them differently. */
  modelIds: Readonly<Record<ModelAlias, string>>;
  /** Model used when neither the request nor SEEDREAM_MODEL names one: the provider's Seedream 4.5 id. */
  defaultModel: string;
  /** DMXAPI strips the watermark whatever we ask; we still send `watermark: false` explicitly. */
  forcesWatermarkOff: boolean;
}

const ARK_MODEL_IDS: Readonly<Record<ModelAlias, string>> = {
  "3.0": "doubao-seedream-3-0-t2i-250415",
  "4.0": "doubao-seedream-4-0-250828",
  "4.5": "doubao-seedream-4-5-251128",
  "5.0": "doubao-seedream-5-0-260128",
};

/** BytePlus serves the same snapshots as Ark, without the `doubao-` prefix. */
const BYTEPLUS_MODEL_IDS: Readonly<Record<ModelAlias, string>> = {
  "3.0": "seedream-3-0-t2i-250415",
  "4.0": "seedream-4-0-250828",
  "4.5": "seedream-4-5-251128",
  "5.0": "seedream-5-0-260128",
};

/** Modelverse names versions with a dot and no snapshot date. */
const MODELVERSE_MODEL_IDS: Readonly<Record<ModelAlias, string>> = {
  "3.0": "doubao-seedream-3.0-t2i",
  "4.0": "doubao-seedream-4.0",
  "4.5": "doubao-seedream-4.5",
  "5.0": "doubao-seedream-5.0",
};

export const PROVIDERS: Readonly<Record<ProviderId, ProviderProfile>> = {
  ark: {
    id: "ark",
    name: "Volcengine Ark",
    baseUrl: "https://ark.cn-beijing.volces.com/api/v3",
    auth: "bearer",
    referenceField: "image",
    modelIds: ARK_MODEL_IDS,
    defaultModel: ARK_MODEL_IDS["4.5"],
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
    forcesWatermarkOff: false,
  },
  dmxapi: {
    id: "dmxapi",
    name: "DMXAPI",
    baseUrl: "https://www.dmxapi.cn/v1",
    auth: "raw",
    referenceField: "image",
    modelIds: ARK_MODEL_IDS,
    defaultModel: ARK_MODEL_IDS["4.5"],
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
    forcesWatermarkOff: false,
  },
};

export function isProviderId(value: string): value is ProviderId {
  return Object.hasOwn(PROVIDERS, value);
}

/**
 * `--model 4.5` → the id this provider knows that version by; any other id is passed through;
 * `undefined` for a version number no Seedream has.
 */
export function modelIdFor(typed: string, profile: ProviderProfile): string | undefined {
  const name = readModelName(typed);
  if (name.kind === "alias") return profile.modelIds[name.alias];
  return name.kind === "id" ? name.id : undefined;
}

/** The profile with SEEDREAM_BASE_URL (when set) taking precedence over the profile's own URL. */
export function resolveProvider(id: ProviderId = "ark", baseUrlOverride?: string): ProviderProfile {
  const profile = PROVIDERS[id];
  if (baseUrlOverride === undefined || baseUrlOverride.trim() === "") return profile;
  return { ...profile, baseUrl: baseUrlOverride.trim().replace(/\/+$/, "") };
}

export function authorizationHeader(profile: ProviderProfile, apiKey: string): string {
  return profile.auth === "bearer" ? `Bearer ${apiKey}` : apiKey;
}
