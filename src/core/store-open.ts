import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import KeyvSqlite from "@keyv/sqlite";
import Keyv from "keyv";
import { StoreError } from "./errors.js";
import { applySqlitePragmas } from "./sqlite-pragmas.js";
import type { StoreBackend } from "./store-backend.js";
import { openRedisBackend } from "./store-redis.js";
import { describe, hidePassword, redactUrl } from "./store-url.js";

/**
 * Turns a STORE_URL into a backend: `memory://`, `sqlite://PATH` or `redis[s]://HOST:PORT[/DB]`.
 * Whatever goes wrong becomes one `StoreError` that names STORE_URL (password hidden) and says
 * what to do.
 */

const NAMESPACE = "seedream-bot";

export interface OpenBackendOptions {
  /** How long a network store may take to answer at start-up. */
  connectTimeoutMs: number;
}

export async function openBackend(url: string, options: OpenBackendOptions): Promise<StoreBackend> {
  const fail = (reason: string, cause?: unknown): never => {
    const message = `Cannot open the store at STORE_URL=${redactUrl(url)}: ${reason}. ${HOW_TO_FIX}`;
    throw new StoreError(hidePassword(message, url), { cause });
  };
  if (url === "memory://") {
    const keyv = new Keyv({ namespace: NAMESPACE, throwOnErrors: true });
    return { keyv, ping: async () => {}, close: () => keyv.disconnect() };
  }
  if (isRedisUrl(url)) {
    try {
      return await openRedisBackend(url, {
        namespace: NAMESPACE,
        connectTimeoutMs: options.connectTimeoutMs,
      });
    } catch (error) {
      const tried = `tried for ${Math.round(options.connectTimeoutMs / 100) / 10} s`;
      return fail(`cannot connect to Redis (${describe(error)}; ${tried})`, error);
    }
  }
  if (!url.startsWith("sqlite://")) return fail("it must start with memory://, sqlite:// or redis://");
  const path = url.slice("sqlite://".length);
  if (path === "") return fail("the path after sqlite:// is empty");

  try {
    await ensureDirectory(dirname(resolve(path)));
  } catch (error) {
    fail(`cannot create the directory ${dirname(resolve(path))} (${describe(error)})`, error);
  }
  const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: 5000 });
  const keyv = new Keyv({ store: adapter, namespace: NAMESPACE, throwOnErrors: true });
  // Errors are thrown to callers (throwOnErrors); the listener only keeps emitters quiet.
  keyv.on("error", () => {});
  try {
    // Opening is lazy: the first statement opens the file; the write proves it is a database
    // and writable.
    await applySqlitePragmas((sql) => adapter.query(sql));
    await keyv.set("store:opened", Date.now());
  } catch (error) {
    await adapter.disconnect().catch(() => {});
    fail(describe(error), error);
  }
  return {
    keyv,
    ping: async () => {
      await keyv.get("store:opened");
    },
    close: () => keyv.disconnect(),
  };
}

/** Whether STORE_URL names a Redis (shared by many processes). */
export const isRedisUrl = (url: string): boolean => url.startsWith("redis://") || url.startsWith("rediss://");

const HOW_TO_FIX =
  "Set STORE_URL to sqlite://PATH with a writable PATH, redis://HOST:PORT[/DB] of a running Redis, or memory:// (nothing then survives a restart).";

/**
 * `mkdir -p`, one level at a time: Node's own recursive mkdir never returns (or spins) for
 * some unwritable parents such as /proc, which would hang start-up instead of explaining.
 */
async function ensureDirectory(dir: string): Promise<void> {
  try {
    if ((await stat(dir)).isDirectory()) return;
    throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "ENOENT") throw error;
  }
  const parent = dirname(dir);
  if (parent !== dir) await ensureDirectory(parent);
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
  }
}
