import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { discordInviteSubcommand } from "../../adapters/discord/discord-invite.js";
import { slackManifestSubcommand } from "../../adapters/slack/index.js";
import { consoleSubcommand } from "./console.js";
import { generateCommand } from "./generate.js";

import type { CliIo, Subcommand } from "./types.js";

export type { CliIo, Subcommand } from "./types.js";

/** Add new subcommands here (`console`, `slack-manifest`, `discord-invite`, …). */
export const subcommands: Record<string, Subcommand> = {
  generate: generateCommand,
  console: consoleSubcommand,
  "slack-manifest": slackManifestSubcommand,
  "discord-invite": discordInviteSubcommand,
};

function help(): string {
  const lines = Object.entries(subcommands).map(
    ([name, command]) => `  ${name.padEnd(16)}${command.summary}`,
  );
  return [
    "Usage: seedream-bot [command] [options]",
    "",
    "With no command, starts the bot (Slack and/or Discord, from the environment).",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `seedream-bot <command> --help` for a command's options.",
  ].join("\n");
}

export async function runCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) return startBot();
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout(help());
    return 0;
  }
  const command = subcommands[name];
  if (!command) {
    io.stderr(`Unknown command "${name}".\n\n${help()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(command.usage);
    return 0;
  }
  return command.run(rest, io);
}

async function startBot(): Promise<number> {
  // Loaded lazily so `generate` and friends never pay for Slack and Discord.
  const program = await import("../main.js");
  // runMain adds one-line config errors and SIGINT/SIGTERM shutdown around main().
  await program.runMain();
  return 0;
}

function defaultIo(): CliIo {
  return {
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
    env: process.env,
  };
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      // The bot keeps running on its own handles; only commands end the process here.
      if (process.argv.length > 2) process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
