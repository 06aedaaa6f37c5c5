import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { freePort } from "./free-port.js";
import { type RedisServer, startRedisServer as startRedisProcess } from "./redis-process.js";

export { freePort, type RedisServer };

/**
 * A real `redis-server` for one suite: 127.0.0.1, a free port, a temp dir, no persistence.
 * With `REDIS_URL` the suite uses that server instead, on a database of its own.
 */

export const redisTarget = inject("redis");
/** `describe` for suites that need any Redis. */
/** Whether this run has a Redis (the global setup said so loudly when not). */
export const redisAvailable = redisTarget.url !== undefined || redisTarget.binary !== undefined;
export const describeRedis = describe.skipIf(!redisAvailable);
/** `describe` for suites that stop and restart Redis themselves (they need the binary). */
export const describeRedisServer = describe.skipIf(redisTarget.binary === undefined);

/** The suite's own `redis-server` (the binary the global setup found). */
export const startRedisServer = (binary = redisTarget.binary): Promise<RedisServer> =>
  startRedisProcess(binary);

/**
 * Gives the suite a Redis: its own server, or a database of its own on `REDIS_URL` (picked
 * by INCR on database 0 so parallel suites never share one, then flushed).
 */
export function useRedis(): { url(): string; flush(): Promise<void> } {
  let url: string | undefined;
  let server: RedisServer | undefined;
  beforeAll(async () => {
    if (redisTarget.url !== undefined) {
      const admin = new Redis(redisTarget.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await admin.connect();
      const db = ((await admin.incr("seedream-bot-tests:next-db")) % 15) + 1;
      await admin.select(db);
      await admin.flushdb();
      await admin.quit();
      const base = new URL(redisTarget.url);
      base.pathname = `/${db}`;
      url = base.toString();
    } else {
      server = await startRedisServer();
      url = server.url;
    }
  });
  afterAll(async () => {
    await server?.dispose();
  });
  const current = (): string => {
    if (url === undefined) throw new Error("useRedis(): the suite's beforeAll has not run");
    return url;
  };
  return {
    url: current,
    /** Empties the suite's database (between tests that reuse key names). */
    async flush() {
      const admin = new Redis(current(), { maxRetriesPerRequest: 1 });
      await admin.flushdb();
      await admin.quit();
    },
  };
}
