import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runConsole } from "../../adapters/console/console-adapter.js";
import { createRuntime } from "../app.js";
import { ConfigError, parseConfig } from "../config.js";
import { StoreError } from "../core/errors.js";
import { createLogger } from "../logger.js";
import type { Subcommand } from "./types.js";

const USAGE = [
  "Usage: seedream-bot console [--out DIR]",
  "",
  "The bot in your terminal, with the same configuration as the real one: type a prompt with",
  "flags (`help` lists them), attach files with --ref FILE, edit image N of the last run with",
  "`reply N <text>`. Images are saved under DIR (default ./out) as they arrive.",
  "SEEDREAM_PROVIDER=demo works without an API key.",
  "Not durable: runs in progress end with the console (the chat bot's runs survive restarts).",
].join("\n");

/** `seedream-bot console`: the first adapter, and the proof that the core is platform-neutral. */
export const consoleSubcommand: Subcommand = {
  summary: "chat with the bot in this terminal (images saved to ./out)",
  usage: USAGE,
  async run(args, io) {
    let outDir: string;
    try {
      const { values } = parseArgs({ args, options: { out: { type: "string" } } });
      outDir = resolve(values.out ?? "out");
    } catch (error) {
      io.stderr(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    try {
      const config = parseConfig(io.env);
      const logger = createLogger({
        format: "pretty",
        level: config.logLevel === "debug" ? "debug" : "warn",
        secrets: [config.seedream.apiKey],
        write: io.stderr,
      });
      const runtime = await createRuntime(config, { logger });
      try {
        await runConsole({
          handler: runtime.handler,
          input: io.stdin ?? process.stdin,
          print: io.stdout,
          outDir,
          cwd: process.cwd(),
        });
      } finally {
        await runtime.close();
      }
      return 0;
    } catch (error) {
      if (error instanceof ConfigError || error instanceof StoreError) {
        io.stderr(error.message);
        return 2;
      }
      throw error;
    }
  },
};
