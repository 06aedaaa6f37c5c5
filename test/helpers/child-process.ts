import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type LineWaiter, lineWaiter } from "./line-waiter.js";

export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A clean environment: nothing from the developer's shell (no real keys) leaks into tests. */
const cleanEnv = (env: Record<string, string>): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/tmp",
  NO_COLOR: "1",
  ...env,
});

/** Lines of one stream, kept in order, each awaitable by pattern (seen so far or later). */
function tapLines(stream: Readable, describe: () => string): LineWaiter {
  const tap = lineWaiter(describe);
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => tap.write(chunk));
  return tap;
}

/** A CLI run whose stdout lines can be awaited; in-process (`runCliInProcess`) or a child process. */
export interface CliRun {
  lines: string[];
  stderr(): string;
  /** Resolves with the first line (seen so far or later) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Types a line. */
  send(line: string): void;
  /** Closes the input (Ctrl-D) and resolves with the exit code. */
  exit(): Promise<number | null>;
  /** Resolves with the exit code, input left open. */
  exited: Promise<number | null>;
}

/** The real entry point in a child process: for the one smoke test per command. */
export interface CliProcess extends CliRun {
  child: ChildProcessWithoutNullStreams;
}

export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/index.ts", ...args], {
    cwd: projectRoot,
    env: cleanEnv(env),
  });
  let err = "";
  const stdout = tapLines(child.stdout, () => `stderr:\n${err}`);
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  return {
    child,
    lines: stdout.lines,
    stderr: () => err,
    waitForLine: stdout.waitForLine,
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    exit() {
      child.stdin.end();
      return exited;
    },
    exited,
  };
}

export interface BotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the last `signal()` to the exit (from the start without one). */
  afterSignalMs: number;
}

/**
 * The bot itself (`src/main.ts`, as `seedream-bot` with no command runs it) in a child process:
 * its log lines (stderr) can be awaited, it can be sent SIGTERM/SIGINT or killed with SIGKILL,
 * and its exit is timed from the last signal.
 */
export interface BotProcess {
  child: ChildProcessWithoutNullStreams;
  /** Log lines so far. */
  logs: string[];
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once the bot logged that it is running. */
  ready(timeoutMs?: number): Promise<void>;
  signal(signal: NodeJS.Signals): void;
  exited: Promise<BotExit>;
  /** SIGKILL (if still running) and wait for the exit. */
  kill(): Promise<BotExit>;
}

export function spawnBot(env: Record<string, string>): BotProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: projectRoot,
    env: cleanEnv(env),
  });
  let out = "";
  const logs = tapLines(child.stderr, () => `stdout:\n${out}`);
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  let signalledAt = Date.now();
  const exited = new Promise<BotExit>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, afterSignalMs: Date.now() - signalledAt })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    logs: logs.lines,
    waitForLog: (pattern, timeoutMs = 20_000) => logs.waitForLine(pattern, timeoutMs),
    async ready(timeoutMs = 60_000) {
      const failed = exited.then((exit) => {
        throw new Error(
          `the bot exited (${exit.code ?? exit.signal}) before it ran:\n${logs.lines.join("\n")}`,
        );
      });
      await Promise.race([logs.waitForLine(/seedream-bot running/, timeoutMs), failed]);
    },
    signal(signal) {
      signalledAt = Date.now();
      child.kill(signal);
    },
    exited,
    kill() {
      if (running()) {
        signalledAt = Date.now();
        child.kill("SIGKILL");
      }
      return exited;
    },
  };
}
