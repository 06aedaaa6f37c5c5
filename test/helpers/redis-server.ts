import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { freePort } from "./free-port.js";

export { freePort };

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

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Stops the server (SIGTERM, or SIGKILL with `{ kill: true }`) and waits for it to exit. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port (after `stop`), empty. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export async function startRedisServer(binary = redisTarget.binary): Promise<RedisServer> {
  if (binary === undefined)
    throw new Error("no redis-server binary (see the REDIS line at the start of the run)");
  const dir = await mkdtemp(join(tmpdir(), "seedream-redis-"));
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    const proc = spawn(binary, [...args, "--protected-mode", "yes", "--loglevel", "notice"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      proc.stdout?.setEncoding("utf8");
      proc.stdout?.on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`redis-server exited with ${code}:\n${output}`), { output }));
      });
    });
  };

  const stop = async (options: { kill?: boolean } = {}): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(options.kill ? "SIGKILL" : "SIGTERM");
    await exited;
  };

  // Another test may take the free port between our probe and redis-server's bind: try again.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await stop({ kill: true });
      const clash = String((error as { output?: string }).output ?? "").includes("Address already in use");
      if (!clash || attempt >= 5) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start: launch,
    async dispose() {
      await stop({ kill: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

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
