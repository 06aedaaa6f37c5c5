import { createRuntime } from "../../src/app.js";
import type { Config } from "../../src/config.js";
import type { PlatformHandle, PlatformRestorer } from "../../src/core/ports.js";
import type { RecoverySummary } from "../../src/core/recovery.js";
import type { Logger } from "../../src/logger.js";
import { createSeedreamClient } from "../../src/seedream/client.js";

/**
 * A second process on the store of `config` (a worker, or the bot after a restart) that picks up
 * what was left unfinished through the restorer-only handle `start` gives, waits until every run
 * it picked up is answered, then stops. The real Seedream client talks to `seedreamUrl`.
 */
export async function continueOn(
  config: Config,
  options: {
    seedreamUrl: string;
    apiKey: string;
    logger: Logger;
    start(): Promise<PlatformHandle & { restorer: PlatformRestorer }>;
  },
): Promise<RecoverySummary> {
  const runtime = await createRuntime(config, {
    logger: options.logger,
    recoverOnStart: true,
    generator: createSeedreamClient({
      provider: "ark",
      apiKey: options.apiKey,
      baseUrl: options.seedreamUrl,
      maxRetries: 0,
    }),
  });
  let handle: (PlatformHandle & { restorer: PlatformRestorer }) | undefined;
  try {
    handle = await options.start();
    const summary = await runtime.handler.recover([handle.restorer]);
    await runtime.handler.idle();
    return summary;
  } finally {
    await handle?.stop();
    await runtime.close();
  }
}
