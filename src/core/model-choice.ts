import type { Config } from "../config.js";
import { type ModelCapabilities, modelCapabilities } from "../seedream/models.js";
import { isProviderId, PROVIDERS } from "../seedream/providers.js";

/**
 * `--model 4.5` → the id the configured provider knows that model by. Providers spell ids
 * differently (Ark `doubao-seedream-4-5-251128`, BytePlus without `doubao-`, Modelverse
 * `doubao-seedream-4.5`); anything that is not a bare version is passed through as an id.
 */

const ARK_IDS: Readonly<Record<string, string>> = {
  "3.0": "doubao-seedream-3-0-t2i-250415",
  "4.0": "doubao-seedream-4-0-250828",
  "4.5": "doubao-seedream-4-5-251128",
  "5.0": "doubao-seedream-5-0-260128",
};

export function modelIdForAlias(alias: string, provider: Config["seedream"]["provider"]): string {
  const ark = ARK_IDS[alias];
  if (ark === undefined) return alias;
  if (provider === "byteplus") return ark.replace(/^doubao-/, "");
  if (provider === "modelverse") return `doubao-seedream-${alias}${alias === "3.0" ? "-t2i" : ""}`;
  return ark;
}

export interface ModelChoice {
  /** What to put in `GenerateRequest.model`: undefined leaves the client's configured default. */
  requestModel: string | undefined;
  caps: ModelCapabilities;
}

export function chooseModel(typed: string | undefined, seedream: Config["seedream"]): ModelChoice {
  if (typed !== undefined) {
    const id = modelIdForAlias(typed, seedream.provider);
    return { requestModel: id, caps: modelCapabilities(id) };
  }
  const provider = seedream.provider;
  const fallback = isProviderId(provider) ? PROVIDERS[provider].defaultModel : ARK_IDS["4.5"];
  return { requestModel: undefined, caps: modelCapabilities(seedream.model ?? fallback ?? "") };
}
