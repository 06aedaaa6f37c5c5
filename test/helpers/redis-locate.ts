import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Where the Redis suites get their Redis: `REDIS_URL` (an existing, disposable server) and/or a
 * `redis-server` binary the tests start themselves. Decided once, in the global setup.
 */
export interface RedisTarget {
  /** An existing server given by `REDIS_URL`; suites use it instead of starting their own. */
  url?: string;
  /** A `redis-server` binary; needed by tests that stop and restart Redis. */
  binary?: string;
}

export const HOW_TO_RUN_REDIS =
  "install redis-server (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL=redis://127.0.0.1:6379 (a disposable server: the tests flush the databases they use)";

/** Debian puts redis-server in /usr/bin; some images leave that out of PATH for root shells. */
const USUAL_DIRS = ["/usr/bin", "/usr/sbin", "/usr/local/bin"];

export function locateRedis(env: Record<string, string | undefined>, usualDirs = USUAL_DIRS): RedisTarget {
  const target: RedisTarget = {};
  const url = env.REDIS_URL?.trim();
  if (url) target.url = url;
  const dirs = [...(env.PATH ?? "").split(delimiter), ...usualDirs];
  for (const dir of dirs) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      target.binary = candidate;
      break;
    } catch {
      // not here
    }
  }
  return target;
}

/**
 * What the run does about a missing Redis: nothing (found), one loud line (skipped), or an
 * error that fails the run (CI or REQUIRE_REDIS=1, where a skip would hide a broken setup).
 */
export function redisVerdict(
  target: RedisTarget,
  env: Record<string, string | undefined>,
): { line?: string; error?: string } {
  if (target.binary !== undefined) return {};
  const what =
    target.url === undefined
      ? "no redis-server binary and no REDIS_URL: every Redis suite is SKIPPED"
      : `no redis-server binary: the tests that stop and restart Redis are SKIPPED (the rest use REDIS_URL=${target.url})`;
  const required = Boolean(env.CI) || env.REQUIRE_REDIS === "1";
  if (required) return { error: `REQUIRE_REDIS: ${what}; ${HOW_TO_RUN_REDIS}` };
  return { line: `!!! REDIS: ${what}. To run them, ${HOW_TO_RUN_REDIS}.` };
}
