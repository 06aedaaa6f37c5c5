import type { Readable } from "node:stream";

/** What a subcommand may touch; tests and other entry points can pass their own. */
export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Record<string, string | undefined>;
  /** Lines typed at the terminal (`console`); default: process.stdin. */
  stdin?: Readable;
  /** Cancels a running command; commands install their own Ctrl-C handling when absent. */
  signal?: AbortSignal;
}

export interface Subcommand {
  summary: string;
  usage: string;
  /** Resolves to the process exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}
