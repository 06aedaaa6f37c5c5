import type { GrammarDefaults } from "./grammar.js";
import type { RunLimits } from "./limits.js";
import type { PolicySettings } from "./policy.js";
import type { CostSettings } from "./quotas.js";

/**
 * What the core needs to know, in its own terms. The composition root (`src/app.ts`) maps the
 * app's config onto it, so the core never reads environment variables or the config module.
 */

export interface ModelSettings {
  /** The provider id (`ark`, `byteplus`, …, `demo`): which spelling of model ids to use. */
  provider: string;
  /** The configured default model id, if any (else the provider's default). */
  model: string | undefined;
}

export interface CoreLimits extends RunLimits {
  maxReferenceBytes: number;
  referenceFetchTimeoutMs: number;
}

export interface CoreSettings {
  seedream: ModelSettings;
  defaults: GrammarDefaults;
  limits: CoreLimits;
  /** Quotas, prices and admins; absent = no limits, usage still counted. */
  cost?: CostSettings;
  /** ALLOWED_CHANNELS and BLOCKED_TERMS; absent = none. */
  policy?: PolicySettings;
}
