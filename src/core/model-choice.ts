import { type ModelCapabilities, modelCapabilities } from "../seedream/models.js";
import { isModelAlias, isProviderId, PROVIDERS, type ProviderProfile } from "../seedream/providers.js";
import type { ModelSettings } from "./settings.js";

/** The configured provider's profile; Ark's ids for anything else (the demo speaks Ark's). */
function profileFor(provider: string): ProviderProfile {
  return PROVIDERS[isProviderId(provider) ? provider : "ark"];
}

/**
 * `--model 4.5` → the id the configured provider knows that model by (each provider profile
 * spells its own ids); anything that is not a bare version is passed through as an id.
 */
export function modelIdForAlias(alias: string, provider: string): string {
  return isModelAlias(alias) ? profileFor(provider).modelIds[alias] : alias;
}

export interface ModelChoice {
  /** What to put in `GenerateRequest.model`: undefined leaves the client's configured default. */
  requestModel: string | undefined;
  caps: ModelCapabilities;
}

export function chooseModel(typed: string | undefined, seedream: ModelSettings): ModelChoice {
  if (typed !== undefined) {
    const id = modelIdForAlias(typed, seedream.provider);
    return { requestModel: id, caps: modelCapabilities(id) };
  }
  return {
    requestModel: undefined,
    caps: modelCapabilities(seedream.model ?? profileFor(seedream.provider).defaultModel),
  };
}
