import type { Config } from "./config.js";
import type { CounterStore } from "./core/counters.js";
import { imagesInFlight } from "./core/decode-slots.js";
import { createHandler, type Handler } from "./core/handler.js";
import { createImageBudget, type ImageBudget } from "./core/image-budget.js";
import type { RunObserver } from "./core/observer.js";
import { openCounters } from "./core/open-counters.js";
import { connectRedis } from "./core/redis-client.js";
import type { RunQueue } from "./core/run-queue.js";
import type { Clock } from "./core/runtime.js";
import type { CoreSettings } from "./core/settings.js";
import type { StatusTimers } from "./core/status-throttle.js";
import { type BotStore, openStore } from "./core/store.js";
import { guardStore } from "./core/store-guard.js";
import { isRedisUrl } from "./core/store-open.js";
import { createDemoGenerator } from "./demo/demo-generator.js";
import { type Logger, silentLogger } from "./logger.js";
import { openRunQueue } from "./queue/bullmq-run-queue.js";
import { createSeedreamClient } from "./seedream/client.js";
import { describeModel } from "./seedream/models.js";
import { modelOffers, resolveProvider } from "./seedream/providers.js";
import type { ImageGenerator } from "./seedream/types.js";
import { prepareRequest } from "./seedream/validate.js";

/**
 * The composition root shared by the bot, the console and the tests: config in, a ready
 * handler out. Adapters receive the handler and the store; nothing else is global.
 */
export interface BotRuntime {
  config: Config;
  store: BotStore;
  /** Quota and usage counters, beside the store. */
  counters: CounterStore;
  handler: Handler;
  /** The run queue every process shares, when STORE_URL is Redis (gateways add, workers take). */
  queue?: RunQueue;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: Logger;
  /** Replaces the configured generator (tests of adapters use the real client on a fake server instead). */
  generator?: ImageGenerator & { close?(): Promise<void> };
  /** New runs wait for `handler.recover()` (the bot calls it once its platforms are up). */
  recoverOnStart?: boolean;
  /** The core's clock (tests stand at a quota day's last second). */
  clock?: Clock;
  /** Timers of the core's status throttle (tests that count edits pass a manual one). */
  statusTimers?: StatusTimers;
  /** Metrics and the audit line (the bot passes its Prometheus observer). */
  observer?: RunObserver;
}

export function createGenerator(config: Config): ImageGenerator & { close?(): Promise<void> } {
  const seedream = config.seedream;
  if (seedream.provider === "demo") {
    // The demo speaks for the provider's default model so it teaches the real limits.
    const provider = resolveProvider("ark");
    const defaultModel = seedream.model ?? provider.defaultModel;
    return createDemoGenerator({
      validate: (request, referenceCount) =>
        prepareRequest(request, { provider, defaultModel }, referenceCount),
      describeModel: (modelId) => `${describeModel(modelId ?? defaultModel)} (demo)`,
      models: () => modelOffers(provider),
      baseDelayMs: seedream.demoDelayMs,
    });
  }
  return createSeedreamClient({
    provider: seedream.provider,
    // parseConfig guarantees a key for every provider but demo.
    apiKey: seedream.apiKey ?? "",
    baseUrl: seedream.baseUrl,
    model: seedream.model,
    headersTimeoutMs: seedream.headersTimeoutMs,
    idleTimeoutMs: seedream.idleTimeoutMs,
    maxRetries: seedream.maxRetries,
    authScheme: seedream.authScheme,
    parallelRequests: seedream.parallelRequests,
    imageHosts: seedream.imageHosts,
    admitImage: () => imagesInFlight.acquire(),
  });
}

/** The app's config in the core's own terms. */
export function coreSettings(config: Config): CoreSettings {
  return {
    seedream: { provider: config.seedream.provider, model: config.seedream.model },
    defaults: config.defaults,
    limits: config.limits,
    cost: config.cost,
    policy: config.policy,
  };
}

/** SEEDREAM_IMAGES_PER_MINUTE's budget: on the store's Redis when there is one, shared by every process. */
async function openImageBudget(
  config: Config,
): Promise<{ budget: ImageBudget; close(): Promise<void> } | undefined> {
  const perMinute = config.seedream.imagesPerMinute;
  if (perMinute <= 0) return undefined;
  const url = config.store.url;
  const redis = isRedisUrl(url) ? await connectRedis(url) : undefined;
  return {
    budget: createImageBudget({ perMinute, ...(redis ? { redis } : {}) }),
    close: async () => {
      redis?.disconnect();
    },
  };
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<BotRuntime> {
  const logger = options.logger ?? silentLogger;
  const generator = options.generator ?? createGenerator(config);
  const store = await openStore(config.store.url, { ttlMs: config.store.ttlMs });
  const clock = options.clock;
  // Beside the store: a sqlite file next to its file, or the same Redis (shared by every process).
  const counters = await openCounters(config.store.url, clock === undefined ? {} : { clock }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  const budget = await openImageBudget(config).catch(async (error: unknown) => {
    await Promise.allSettled([store.close(), counters.close()]);
    throw error;
  });
  // On Redis the runs go through one BullMQ queue shared by every process.
  // Guarded like the store: a lost Redis reaches users as "the state store is unavailable".
  const queue = isRedisUrl(config.store.url)
    ? await openRunQueue({
        url: config.store.url,
        maxConcurrentRuns: config.limits.maxConcurrentRuns,
        maxConcurrentRunsPerUser: config.limits.maxConcurrentRunsPerUser,
        logger,
      }).then(guardStore, async (error: unknown) => {
        await Promise.allSettled([store.close(), counters.close(), budget?.close()]);
        throw error;
      })
    : undefined;
  const handler = createHandler({
    generator,
    store,
    counters,
    settings: coreSettings(config),
    logger,
    ...(clock === undefined ? {} : { clock }),
    ...(options.statusTimers === undefined ? {} : { statusTimers: options.statusTimers }),
    ...(options.recoverOnStart ? { recoverOnStart: true } : {}),
    ...(budget ? { imageBudget: budget.budget } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    ...(queue ? { queue } : {}),
  });
  return {
    config,
    store,
    counters,
    handler,
    ...(queue ? { queue } : {}),
    async close() {
      await queue?.close();
      await Promise.allSettled([store.close(), counters.close(), generator.close?.(), budget?.close()]);
    },
  };
}
