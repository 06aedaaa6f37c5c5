import type { Server } from "node:http";
import { pathToFileURL } from "node:url";
import { DiscordStartError, startDiscord, startDiscordRestorer } from "../adapters/discord/index.js";
import { SlackStartError, startSlack, startSlackRestorer } from "../adapters/slack/index.js";
import { type BotRuntime, createRuntime } from "./app.js";
import { consoleSubcommand } from "./cli/console.js";
import { type Config, ConfigError, parseConfig } from "./config.js";
import { StoreError } from "./core/errors.js";
import type { PlatformHandle, PlatformRestorer } from "./core/ports.js";
import { isRedisUrl } from "./core/store-open.js";
import { loadDotEnv } from "./env-file.js";
import { FIRST_RUN_BANNER, firstRunEnv, isUnconfigured, NOT_CONFIGURED } from "./first-run.js";
import { createLogger, type Logger } from "./logger.js";
import { type HttpRoute, opsRoutes, startOpsServer } from "./ops/http.js";
import { createPrometheusMetrics } from "./ops/prometheus.js";
import { checkReadiness } from "./ops/readiness.js";
import { createRunObserver } from "./ops/run-observer.js";
import { estimate } from "./seedream/prices.js";

/** Time past the grace allowed for stopping platforms and closing the store (the exit is within grace + 5 s). */
const SHUTDOWN_MARGIN_MS = 4000;

export interface MainOptions {
  /** Where log lines go (default: stderr). */
  writeLog?: (line: string) => void;
  /** A person reads the log (decides LOG_FORMAT's default). Default: stderr is a terminal. */
  terminal?: boolean;
}

export interface RunningBot {
  runtime: BotRuntime;
  stop(): Promise<void>;
}

/**
 * Starts the bot: config → runtime → operator endpoints → what BOT_ROLE asks for:
 * - `all` (default): every configured platform, and the runs (in this process with a sqlite or
 *   memory store, exactly as one process always did; from the shared queue on Redis);
 * - `gateway`: every configured platform; its runs go into the queue for the workers;
 * - `worker`: no platform connection, only the platforms' Web/REST APIs to post the runs it
 *   takes from the queue.
 * With nothing configured it still starts (demo provider, no platform) and /readyz says what is
 * missing. Exits the process only from the CLI entry below.
 */
export async function main(
  env: Record<string, string | undefined> = process.env,
  options: MainOptions = {},
): Promise<RunningBot> {
  const unconfigured = isUnconfigured(env);
  const config = parseConfig(unconfigured ? firstRunEnv(env) : env);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat ?? ((options.terminal ?? process.stderr.isTTY === true) ? "pretty" : "json"),
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
  const configured = [config.slack ? "slack" : undefined, config.discord ? "discord" : undefined].filter(
    (name): name is string => name !== undefined,
  );
  const prometheus = createPrometheusMetrics({ platforms: configured });
  const observer = createRunObserver({
    metrics: prometheus.metrics,
    logger,
    cost: (model, images) => estimate(config.seedream.provider, model, images, config.cost.pricePerImage),
  });
  const runtime = await createRuntime(config, { logger, recoverOnStart: true, observer });
  const platforms: PlatformHandle[] = [];
  const routes = opsRoutes({
    readiness: () =>
      checkReadiness({
        configured,
        started: () => platforms,
        pingStore: () => runtime.store.ping(),
        problems: unconfigured ? [NOT_CONFIGURED] : [],
      }),
    metrics: prometheus,
  });

  if (unconfigured) {
    logger.warn(`seedream-bot is ${NOT_CONFIGURED}; /readyz answers 503 until then.`);
  } else if (configured.length === 0) {
    logger.warn(
      "No chat platform is configured: set SLACK_BOT_TOKEN (+ SLACK_SIGNING_SECRET or SLACK_APP_TOKEN) or DISCORD_TOKEN. Try `seedream-bot console` meanwhile.",
    );
  }
  let opsServer: Server | undefined;
  try {
    // Slack in HTTP mode serves the routes itself on PORT (Bolt's receiver owns the port);
    // otherwise they are up before any platform connects, so /readyz says 503 meanwhile.
    const slackServesRoutes = config.role !== "worker" && config.slack !== undefined;
    if (!slackServesRoutes) opsServer = await startOpsServer(config.port, routes, config.host);
    const start = config.role === "worker" ? startRestorers : startConnections;
    await start(config, { runtime, logger, routes }, (handle) => platforms.push(handle));
  } catch (error) {
    await stop();
    throw error;
  }
  const restorers = platforms.flatMap((p): PlatformRestorer[] => (p.restorer ? [p.restorer] : []));
  // Runs an earlier process left unfinished: told, continued, lined up again before new ones.
  await runtime.handler.recover(restorers);
  // On Redis, all and worker take runs from the shared queue; a gateway only hands them to it.
  if (runtime.queue && config.role !== "gateway") {
    await runtime.handler.work(restorers, { concurrency: config.workerConcurrency });
  }
  logger.info(
    `seedream-bot running as ${describeRole(config)} (${config.seedream.provider}); /livez, /readyz and /metrics on ${config.host}:${config.port}`,
  );
  return { runtime, stop };

  async function stop(): Promise<void> {
    // Running runs get the grace to finish (the platforms stay up meanwhile to deliver them).
    await runtime.handler.drain(config.shutdownGraceMs);
    await Promise.allSettled(platforms.map((p) => p.stop()));
    await new Promise<void>((resolve) => (opsServer ? opsServer.close(() => resolve()) : resolve()));
    await runtime.close();
  }
}

interface StartDeps {
  runtime: BotRuntime;
  logger: Logger;
  routes: readonly HttpRoute[];
}

/** Gateway and all: the platform connections (Slack receiver, Discord shards), one by one. */
async function startConnections(
  config: Config,
  { runtime, logger, routes }: StartDeps,
  started: (handle: PlatformHandle) => void,
): Promise<void> {
  const core = { handler: runtime.handler, store: runtime.store, logger };
  if (config.slack) {
    started(await startSlack({ ...core, slack: config.slack, port: config.port, host: config.host, routes }));
  }
  if (config.discord) started(await startDiscord({ ...core, discord: config.discord }));
}

/** Worker: no connection to receive anything on, only the Web/REST APIs runs are posted through. */
async function startRestorers(
  config: Config,
  { logger }: StartDeps,
  started: (handle: PlatformHandle) => void,
): Promise<void> {
  if (config.slack) started(await startSlackRestorer({ slack: config.slack, logger }));
  if (config.discord) started(await startDiscordRestorer({ discord: config.discord, logger }));
}

/** The start line's role: `all`, `gateway (discord shards 0,1 of 4)`, `worker (4 runs at once)`. */
export function describeRole(config: Config): string {
  const details: string[] = [];
  const discord = config.discord;
  if (config.role !== "worker" && discord && discord.shardCount > 1) {
    details.push(`discord shards ${discord.shardIds.join(",")} of ${discord.shardCount}`);
  }
  if (config.role !== "gateway" && isRedisUrl(config.store.url)) {
    details.push(`${config.workerConcurrency} runs at once from the queue`);
  }
  return details.length === 0 ? config.role : `${config.role} (${details.join("; ")})`;
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
 * Run as a program: the first-run console on a terminal with nothing configured; otherwise the
 * server, with one-line config errors; on SIGTERM/SIGINT a drain (running runs get
 * SHUTDOWN_GRACE_MS, then are interrupted for the next process to continue) and exit 0 within
 * the grace plus 5 s; a second signal exits at once.
 */
export async function runMain(env: Record<string, string | undefined> = process.env): Promise<void> {
  if (isUnconfigured(env) && process.stdin.isTTY && process.stdout.isTTY) {
    for (const line of FIRST_RUN_BANNER) process.stdout.write(`${line}\n`);
    process.exitCode = await consoleSubcommand.run([], {
      env: firstRunEnv(env),
      stdout: (line) => process.stdout.write(`${line}\n`),
      stderr: (line) => process.stderr.write(`${line}\n`),
    });
    return;
  }
  try {
    const bot = await main(env);
    const graceMs = bot.runtime.config.shutdownGraceMs;
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`seedream-bot: ${signal} again, exiting now\n`);
        process.exit(128 + (signal === "SIGINT" ? 2 : 15));
      }
      stopping = true;
      // However long closing connections takes, the platform's grace is not overrun.
      setTimeout(() => process.exit(0), graceMs + SHUTDOWN_MARGIN_MS).unref();
      void bot.stop().finally(() => process.exit(0));
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
