/**
 * The first run: `npm start` or `npx seedream-bot` with nothing configured. On a terminal the
 * person gets the console on the demo provider and three lines on how to go further; in a
 * container the bot stays up as a server and says, in its log and on /readyz, what is missing.
 */

/** Variables whose absence (all of them) means nobody has configured this bot yet. */
const CONFIGURING = ["SEEDREAM_API_KEY", "SEEDREAM_PROVIDER", "SLACK_BOT_TOKEN", "DISCORD_TOKEN"] as const;

export function isUnconfigured(env: Record<string, string | undefined>): boolean {
  return CONFIGURING.every((name) => (env[name] ?? "").trim() === "");
}

/** The environment a first run uses: the demo provider, and nothing written to disk by default. */
export function firstRunEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return { ...env, SEEDREAM_PROVIDER: "demo", STORE_URL: env.STORE_URL || "memory://" };
}

export const FIRST_RUN_BANNER = [
  "No configuration found, so this is seedream-bot's console on the demo provider (placeholder images, no API key).",
  "Real images: set SEEDREAM_API_KEY. Slack: SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (`seedream-bot slack-manifest`).",
  "Discord: DISCORD_TOKEN (`seedream-bot discord-invite`). Put them in .env (see .env.example) or the environment, then start again.",
] as const;

/** What /readyz and the log say when a server starts with nothing configured. */
export const NOT_CONFIGURED =
  "not configured: set SEEDREAM_API_KEY and a chat platform (SLACK_BOT_TOKEN or DISCORD_TOKEN), see .env.example";
