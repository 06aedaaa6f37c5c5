import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/**
 * A real `redis-server` child process: 127.0.0.1, a free port, a temp dir, no persistence.
 * No vitest here, so the benchmarks start one too (tests go through `redis-server.ts`).
 */

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

export async function startRedisServer(binary: string | undefined): Promise<RedisServer> {
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
