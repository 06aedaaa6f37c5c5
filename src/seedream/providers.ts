/**
 * Provider profiles: the few ways the vendors differ while speaking the same
 * `POST {baseUrl}/images/generations` API.
 */

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
  /** Model used when neither the request nor SEEDREAM_MODEL names one: the provider's Seedream 4.5 id. */
  defaultModel: string;
  /** DMXAPI strips the watermark whatever we ask; we still send `watermark: false` explicitly. */
  forcesWatermarkOff: boolean;
}

export const PROVIDERS: Readonly<Record<ProviderId, ProviderProfile>> = {
  ark: {
    id: "ark",
    name: "Volcengine Ark",
    baseUrl: "https://ark.cn-beijing.volces.com/api/v3",
    auth: "bearer",
    referenceField: "image",
    defaultModel: "doubao-seedream-4-5-251128",
    forcesWatermarkOff: false,
  },
  byteplus: {
    id: "byteplus",
    name: "BytePlus ModelArk",
    baseUrl: "https://ark.ap-southeast.bytepluses.com/api/v3",
    auth: "bearer",
    referenceField: "image",
    defaultModel: "seedream-4-5-251128",
    forcesWatermarkOff: false,
  },
  dmxapi: {
    id: "dmxapi",
    name: "DMXAPI",
    baseUrl: "https://www.dmxapi.cn/v1",
    auth: "raw",
    referenceField: "image",
    defaultModel: "doubao-seedream-4-5-251128",
    forcesWatermarkOff: true,
  },
  modelverse: {
    id: "modelverse",
    name: "Modelverse",
    baseUrl: "https://api.modelverse.cn/v1",
    auth: "bearer",
    referenceField: "images",
    defaultModel: "doubao-seedream-4.5",
    forcesWatermarkOff: false,
  },
};

export function isProviderId(value: string): value is ProviderId {
  return Object.hasOwn(PROVIDERS, value);
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
