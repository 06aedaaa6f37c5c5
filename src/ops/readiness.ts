/**
 * Readiness: may this process take traffic? Yes only when every configured chat platform is
 * connected and the store answers. Anything else is named in `notReady`, in words an operator
 * reads in `docker inspect` or a load balancer's log.
 */

export interface ReadinessReport {
  ok: boolean;
  /** Each configured platform: connected or not. */
  platforms: Record<string, boolean>;
  store: boolean;
  /** One phrase per thing that is not ready; empty when `ok`. */
  notReady: string[];
}

export interface ReadinessSources {
  /** Platforms the configuration enables (names as their handles report them). */
  configured: readonly string[];
  /** Handles of the platforms started so far. */
  started(): ReadonlyArray<{ name: string; healthy(): boolean }>;
  /** Resolves when the store answers; rejects (or never settles) otherwise. */
  pingStore?(): Promise<void>;
  /** Problems known at start-up, reported as they are (e.g. no configuration at all). */
  problems?: readonly string[];
  /** Longest wait for the store. Default 2 s. */
  storeTimeoutMs?: number;
}

export const NO_PLATFORM = "no chat platform configured (set SLACK_BOT_TOKEN or DISCORD_TOKEN)";

export async function checkReadiness(sources: ReadinessSources): Promise<ReadinessReport> {
  const notReady = [...(sources.problems ?? [])];
  if (sources.configured.length === 0) notReady.push(NO_PLATFORM);
  const started = new Map(sources.started().map((handle) => [handle.name, handle] as const));
  const platforms: Record<string, boolean> = {};
  for (const name of sources.configured) {
    const handle = started.get(name);
    platforms[name] = handle?.healthy() ?? false;
    if (!handle) notReady.push(`${name}: starting`);
    else if (!platforms[name]) notReady.push(`${name}: not connected`);
  }
  const store = await storeAnswers(sources);
  if (store !== true) notReady.push(`store: ${store}`);
  return { ok: notReady.length === 0, platforms, store: store === true, notReady };
}

async function storeAnswers(sources: ReadinessSources): Promise<true | string> {
  if (!sources.pingStore) return "not open";
  const timeoutMs = sources.storeTimeoutMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      sources.pingStore().then(
        () => true as const,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
