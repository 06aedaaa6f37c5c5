import { parseArgs } from "node:util";

/**
 * The Slack app manifest (https://api.slack.com/reference/manifests): what a workspace admin
 * pastes into "Create New App → From an app manifest". `slack/manifest.yml` is this output for
 * the placeholder URL; `seedream-bot slack-manifest --url https://…` prints it for a real one.
 */

export const MANIFEST_URL_PLACEHOLDER = "https://your-bot.example.com";
export const DEFAULT_COMMAND = "/seedream";

export const BOT_SCOPES = [
  "app_mentions:read",
  "channels:history",
  "groups:history",
  "chat:write",
  "commands",
  "files:read",
  "files:write",
  // users.info: a workspace admin or owner may cancel anyone's run with its button.
  "users:read",
] as const;

export const BOT_EVENTS = ["app_mention", "message.channels", "message.groups"] as const;

export interface ManifestOptions {
  /** The bot's public base URL (or the full `/slack/events` URL). Ignored with `socketMode`. */
  url?: string;
  command?: string;
  /** Socket Mode: no public URL needed (the bot dials out with an xapp- token). */
  socketMode?: boolean;
}

/** `https://host` → `https://host/slack/events` (a URL already ending in /slack/events is kept). */
export function eventsUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/slack/events") ? trimmed : `${trimmed}/slack/events`;
}

export function slackManifest(options: ManifestOptions = {}): string {
  const command = options.command ?? DEFAULT_COMMAND;
  const url = options.socketMode ? undefined : eventsUrl(options.url ?? MANIFEST_URL_PLACEHOLDER);
  const q = (value: string) => JSON.stringify(value);
  const lines = [
    "# Slack app manifest for seedream-bot.",
    "# Slack: https://api.slack.com/apps → Create New App → From an app manifest → paste this.",
    url === undefined
      ? "# Socket Mode: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (an xapp- token with connections:write)."
      : "# Requests go to PORT behind this URL. Regenerate: npx seedream-bot slack-manifest --url https://…",
    "display_information:",
    "  name: Seedream",
    `  description: ${q("Seedream image generation, streamed into Slack threads image by image.")}`,
    `  background_color: ${q("#1b2735")}`,
    "features:",
    "  bot_user:",
    "    display_name: seedream",
    "    always_online: true",
    "  slash_commands:",
    `    - command: ${q(command)}`,
    ...(url === undefined ? [] : [`      url: ${q(url)}`]),
    `      description: ${q("Generate images with Seedream")}`,
    `      usage_hint: ${q("<prompt> [--n 4] [--size 2K] [--ar 16:9] — or help")}`,
    "      should_escape: false",
    "oauth_config:",
    "  scopes:",
    "    bot:",
    ...BOT_SCOPES.map((scope) => `      - ${scope}`),
    "settings:",
    "  event_subscriptions:",
    ...(url === undefined ? [] : [`    request_url: ${q(url)}`]),
    "    bot_events:",
    ...BOT_EVENTS.map((event) => `      - ${event}`),
    "  interactivity:",
    "    is_enabled: true",
    ...(url === undefined ? [] : [`    request_url: ${q(url)}`]),
    "  org_deploy_enabled: false",
    `  socket_mode_enabled: ${url === undefined}`,
    "  token_rotation_enabled: false",
  ];
  return `${lines.join("\n")}\n`;
}

export interface ManifestIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const SLACK_MANIFEST_USAGE = [
  "Usage: seedream-bot slack-manifest --url https://your-host [--command /seedream]",
  "       seedream-bot slack-manifest --socket-mode [--command /seedream]",
  "Prints the Slack app manifest. --url is the bot's public HTTPS address (PORT behind it);",
  "--socket-mode makes an app that needs no public URL. --command defaults to SLACK_COMMAND or /seedream.",
].join("\n");

/** The `slack-manifest` subcommand; resolves to the exit code. */
export async function slackManifestCommand(argv: string[], io: ManifestIo = defaultIo()): Promise<number> {
  const parsed = parseOptions(argv, io.env);
  if (typeof parsed === "string") {
    io.stderr(`${parsed}\n${SLACK_MANIFEST_USAGE}`);
    return 2;
  }
  io.stdout(slackManifest(parsed).trimEnd());
  return 0;
}

/** Shaped like `src/cli` subcommands, for the CLI's table. */
export const slackManifestSubcommand = {
  summary: "print the Slack app manifest for your URL",
  usage: SLACK_MANIFEST_USAGE,
  run: slackManifestCommand,
};

function parseOptions(argv: string[], env: Record<string, string | undefined>): ManifestOptions | string {
  let values: { url?: string; command?: string; "socket-mode"?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: "string" }, command: { type: "string" }, "socket-mode": { type: "boolean" } },
    }));
  } catch (error) {
    return `${(error as Error).message}.`;
  }
  const command = values.command ?? (env.SLACK_COMMAND?.trim() || DEFAULT_COMMAND);
  if (!/^\/[\w-]{1,31}$/.test(command)) return "--command must look like /seedream.";
  if (values["socket-mode"]) return { command, socketMode: true };
  if (values.url === undefined) return "--url is required (or --socket-mode).";
  try {
    const url = new URL(values.url);
    if (url.protocol !== "https:") return "--url must start with https:// (Slack only calls HTTPS URLs).";
  } catch {
    return `--url "${values.url}" is not a URL; e.g. --url https://bot.example.com`;
  }
  return { command, url: values.url };
}

function defaultIo(): ManifestIo {
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    env: process.env,
  };
}
