import type { Server } from "node:http";
import { pathToFileURL } from "node:url";
import { DiscordStartError, startDiscord } from "../adapters/discord/index.js";
import { SlackStartError, startSlack } from "../adapters/slack/index.js";
import { createRuntime } from "./app.js";
import { ConfigError, parseConfig } from "./config.js";
import { StoreError } from "./core/errors.js";
import type { PlatformHandle } from "./core/ports.js";
import { loadDotEnv } from "./env-file.js";
import { type HealthCheck, startHealthServer } from "./health.js";
import { createLogger } from "./logger.js";

/** Time past the grace allowed for stopping platforms and closing the store (the exit is within grace + 5 s). */
const SHUTDOWN_MARGIN_MS = 4000;

/**
 * Starts the bot: config → runtime → every configured platform → health endpoint. Returns a
 * stop function; exits the process only from the CLI entry below.
 */
export interface MainOptions {
  /** Where log lines go (default: stderr). */
  writeLog?: (line: string) => void;
}

export async function main(
  env: Record<string, string | undefined> = process.env,
  options: MainOptions = {},
): Promise<() => Promise<void>> {
  const config = parseConfig(env);
  const logger = createLogger({
    level: config.logLevel,
    write: options.writeLog,
    secrets: [
      config.seedream.apiKey,
      config.slack?.botToken,
      config.slack?.signingSecret,
      config.slack?.appToken,
      config.discord?.token,
      storePassword(config.store.url),
    ],
  });
  const runtime = await createRuntime(config, { logger, recoverOnStart: true });
  const platforms: PlatformHandle[] = [];
  const health: HealthCheck = () => {
    const status = Object.fromEntries(platforms.map((p) => [p.name, p.healthy()]));
    return { ok: platforms.every((p) => p.healthy()), platforms: status };
  };

  if (!config.slack && !config.discord) {
    logger.warn(
      "No chat platform is configured: set SLACK_BOT_TOKEN (+ SLACK_SIGNING_SECRET or SLACK_APP_TOKEN) or DISCORD_TOKEN. Try `seedream-bot console` meanwhile.",
    );
  }
  let healthServer: Server | undefined;
  try {
    if (config.slack) {
      // Slack serves /healthz itself on PORT (Bolt's receiver owns the port in HTTP mode).
      platforms.push(
        await startSlack({
          slack: config.slack,
          port: config.port,
          handler: runtime.handler,
          store: runtime.store,
          logger,
          health,
        }),
      );
    } else {
      healthServer = await startHealthServer(config.port, health);
    }
    if (config.discord) {
      platforms.push(
        await startDiscord({
          discord: config.discord,
          handler: runtime.handler,
          store: runtime.store,
          logger,
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  // Runs an earlier process left unfinished: told, continued, lined up again before new ones.
  await runtime.handler.recover(platforms.flatMap((p) => (p.restorer ? [p.restorer] : [])));
  logger.info(`seedream-bot running (${config.seedream.provider}); health on :${config.port}/healthz`);
  return stop;

  async function stop(): Promise<void> {
    // Running runs get the grace to finish (the platforms stay up meanwhile to deliver them).
    await runtime.handler.drain(config.shutdownGraceMs);
    await Promise.allSettled(platforms.map((p) => p.stop()));
    await new Promise<void>((resolve) => (healthServer ? healthServer.close(() => resolve()) : resolve()));
    await runtime.close();
  }
}

/** The password in a redis://:PASSWORD@HOST STORE_URL, so no log line can print it. */
function storePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Run as a program: one-line config errors; on SIGTERM/SIGINT a drain (running runs get
 * SHUTDOWN_GRACE_MS, then are interrupted for the next process to continue) and exit 0 within
 * the grace plus 5 s; a second signal exits at once.
 */
export async function runMain(): Promise<void> {
  try {
    const env = process.env;
    const stop = await main(env);
    const graceMs = parseConfig(env).shutdownGraceMs;
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`seedream-bot: ${signal} again, exiting now\n`);
        process.exit(128 + (signal === "SIGINT" ? 2 : 15));
      }
      stopping = true;
      // However long closing connections takes, the platform's grace is not overrun.
      setTimeout(() => process.exit(0), graceMs + SHUTDOWN_MARGIN_MS).unref();
      void stop().finally(() => process.exit(0));
    };
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof StoreError ||
      error instanceof SlackStartError ||
      error instanceof DiscordStartError
    ) {
      process.stderr.write(`seedream-bot: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  loadDotEnv();
  void runMain();
}
