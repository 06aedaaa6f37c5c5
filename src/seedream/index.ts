/** The Seedream client's public surface, for the core, the adapters and the CLI. */
export {
  createSeedreamClient,
  type RetryInfo,
  type SeedreamClient,
  type SeedreamClientOptions,
} from "./client.js";
export { userSentence, withRequestId } from "./error-mapping.js";
export * from "./errors.js";
export { describeModel, type ModelCapabilities, modelCapabilities } from "./models.js";
export {
  isProviderId,
  PROVIDERS,
  type ProviderId,
  type ProviderProfile,
  resolveProvider,
} from "./providers.js";
export type * from "./types.js";
export { parseSize } from "./validate.js";
