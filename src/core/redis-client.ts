import { Redis } from "ioredis";
import { StoreError } from "./errors.js";
import { describe, redactUrl } from "./store-url.js";

/**
 * An ioredis connection with the bot's failure policy, for everything on Redis except keyv's
 * records (which @keyv/redis keeps on node-redis): run records, the image budget, counters and
 * the queue. While Redis is away commands fail at once (no offline queue) so a request gets
 * an answer instead of hanging; the connection keeps retrying with a capped backoff and resumes
 * by itself.
 */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  try {
    return await openRedisConnection(url, timeoutMs);
  } catch (error) {
    throw new StoreError(
      `Cannot open the store at STORE_URL=${redactUrl(url)}: cannot connect to Redis (${describe(error)}).`,
      { cause: error },
    );
  }
}

/** `connectRedis` for a caller that words the failure itself: rejects with the driver's reason. */
export async function openRedisConnection(url: string, timeoutMs = 5000): Promise<Redis> {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
    lazyConnect: false,
  });
  // Failures reach callers through the commands they break; this keeps each reconnect
  // attempt's error event from crashing the process.
  client.on("error", () => {});
  try {
    await whenReady(client, timeoutMs);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/** Resolves once `client` is ready, or rejects after `timeoutMs`. */
async function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}
