import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** A clean environment: nothing from the developer's shell (no real keys) leaks into tests. */
const cleanEnv = (env: Record<string, string>): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/tmp",
  NO_COLOR: "1",
  ...env,
});

/** Lines of one stream, kept in order, each awaitable by pattern (seen so far or later). */
class LineTap {
  readonly lines: string[] = [];
  private partial = "";
  private readonly waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];

  constructor(
    stream: Readable,
    private readonly describe: () => string,
  ) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (this.partial + chunk).split("\n");
      this.partial = parts.pop() ?? "";
      for (const line of parts) this.push(line);
    });
  }

  private push(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.pattern.test(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }

  waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${pattern} in:\n${this.describe()}`)),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }
}

/**
 * A CLI child process whose stdout lines can be awaited one pattern at a time, so tests prove
 * ordering ("this line came before that image was sent") without sleeping.
 */
export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr(): string;
  /** Resolves with the first line (seen so far or later) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  exit(): Promise<number | null>;
}

export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/index.ts", ...args], {
    cwd: projectRoot,
    env: cleanEnv(env),
  });
  let err = "";
  const stdout: LineTap = new LineTap(
    child.stdout,
    (): string => `${stdout.lines.join("\n")}\nstderr:\n${err}`,
  );
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  return {
    child,
    lines: stdout.lines,
    stderr: () => err,
    waitForLine: (pattern, timeoutMs = 20_000) => stdout.waitFor(pattern, timeoutMs),
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    exit() {
      child.stdin.end();
      return exited;
    },
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
  const logs: LineTap = new LineTap(child.stderr, (): string => `${logs.lines.join("\n")}\nstdout:\n${out}`);
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
    waitForLog: (pattern, timeoutMs = 20_000) => logs.waitFor(pattern, timeoutMs),
    async ready(timeoutMs = 30_000) {
      const failed = exited.then((exit) => {
        throw new Error(
          `the bot exited (${exit.code ?? exit.signal}) before it ran:\n${logs.lines.join("\n")}`,
        );
      });
      await Promise.race([logs.waitFor(/seedream-bot running/, timeoutMs), failed]);
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
