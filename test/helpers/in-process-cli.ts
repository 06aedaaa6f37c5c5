import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/index.js";
import type { CliRun } from "./child-process.js";
import { lineWaiter } from "./line-waiter.js";

/**
 * The CLI through its injectable `runCli(argv, io)`, in the test's own process: the same
 * commands, config parsing and output as the binary, without paying for a Node start-up.
 * `env` is the whole environment the command sees (nothing from the developer's shell).
 */
export function runCliInProcess(args: string[], env: Record<string, string>): CliRun {
  const stdin = new PassThrough();
  let err = "";
  const out = lineWaiter(() => `stderr:\n${err}`);
  const exited = runCli(args, {
    stdout: (text) => out.write(`${text}\n`),
    stderr: (text) => {
      err += `${text}\n`;
    },
    env,
    stdin,
  });
  return {
    lines: out.lines,
    stderr: () => err,
    waitForLine: out.waitForLine,
    send: (line) => stdin.write(`${line}\n`),
    exit() {
      stdin.end();
      return exited;
    },
    exited,
  };
}
