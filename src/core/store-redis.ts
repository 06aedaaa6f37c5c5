import KeyvRedis, { createClient } from "@keyv/redis";
import type { Redis } from "ioredis";
import Keyv from "keyv";
import { openRedisConnection } from "./redis-client.js";
import { KeyvRunRecords } from "./run-records-keyv.js";
import { RedisRunRecords } from "./run-records-redis.js";
import type { StoreBackend } from "./store-backend.js";

/**
 * The Redis backend behind `STORE_URL=redis://HOST:PORT[/DB]` (or `rediss://` for TLS): records
 * through @keyv/redis, dedupe as one `SET NX PX` so any number of processes agree on who saw an
 * event first, and run records as Lua scripts on an ioredis connection (run-records-redis.ts),
 * so every state move and delivery is one atomic step across processes.
 *
 * Failure policy: start-up waits at most `connectTimeoutMs` for Redis (then the caller names
 * STORE_URL in one line); once connected, a lost connection is retried forever with a capped
 * backoff while every command fails at once (no offline queue), so requests get an answer
 * instead of hanging and service resumes by itself when Redis returns.
 */

export interface RedisBackendOptions {
  namespace: string;
  connectTimeoutMs: number;
}

const RECONNECT_CAP_MS = 2000;

export async function openRedisBackend(url: string, options: RedisBackendOptions): Promise<StoreBackend> {
  let ready = false;
  const deadline = Date.now() + options.connectTimeoutMs;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.min(options.connectTimeoutMs, 5000),
      reconnectStrategy: (retries: number, cause: Error) => {
        const delay = Math.min(100 * 2 ** retries, RECONNECT_CAP_MS);
        if (!ready && Date.now() + delay > deadline) return cause;
        return delay;
      },
    },
  });
  // Failures reach callers through the commands that hit them; the event only keeps the
  // emitter from crashing the process on every reconnect attempt.
  client.on("error", () => {});
  await client.connect();
  ready = true;
  let records: Redis;
  try {
    records = await openRedisConnection(url, Math.max(deadline - Date.now(), 1000));
  } catch (error) {
    client.destroy();
    throw error;
  }

  const adapter = new KeyvRedis(client, { throwOnErrors: true, throwOnConnectError: true });
  const keyv = new Keyv({ store: adapter, namespace: options.namespace, throwOnErrors: true });
  keyv.on("error", () => {});
  const seenPrefix = `${options.namespace}:seen:`;

  return {
    keyv,
    async claim(key, ttlMs) {
      const reply = await client.set(seenPrefix + key, "1", {
        condition: "NX",
        expiration: { type: "PX", value: ttlMs },
      });
      return reply === "OK";
    },
    runRecords: (ttlMs) =>
      new RedisRunRecords(records, ttlMs, `${options.namespace}:`, new KeyvRunRecords(keyv, ttlMs)),
    async ping() {
      await Promise.all([client.ping(), records.ping()]);
    },
    async close() {
      if (records.status === "ready") await records.quit().catch(() => records.disconnect());
      else records.disconnect();
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
}
