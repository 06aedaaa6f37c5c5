/**
 * Starting a bot under test (`bot-process.ts`) against the bench's fakes, and sending it what
 * users send: a Slack `app_mention` event (signed, over HTTP) or a Discord mention (gateway).
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SlackEventSender } from "../../test/fakes/slack-events.js";
import { freePort } from "../../test/helpers/free-port.js";
import type { CheckCost, LoopReport } from "./bot-process.js";
import { type BenchFakes, type Platform, seat } from "./fakes.js";
import { ask, wallClock } from "./ipc.js";

export type BotKind = "ours" | "bare";

const SEEDREAM_KEY = "sk-bench-0123456789";
const SIGNING_SECRET = "bench-signing-secret-0123456789abcdef";

export class BotUnderTest {
  private constructor(
    readonly kind: BotKind,
    private readonly child: ChildProcess,
    private readonly fakes: BenchFakes,
    private readonly sender: SlackEventSender,
    private readonly dataDir: string,
  ) {}

  /** `env`: settings on top of the bench's (ours reads them; the bare bot has none). */
  static async start(
    kind: BotKind,
    fakes: BenchFakes,
    env: Record<string, string> = {},
  ): Promise<BotUnderTest> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "seedream-bench-"));
    const botEnv = {
      SEEDREAM_API_KEY: SEEDREAM_KEY,
      SEEDREAM_BASE_URL: fakes.seedreamUrl,
      SEEDREAM_MAX_RETRIES: "0",
      // The default store, sqlite://, as a team runs it; BENCH_STORE=memory measures without it.
      STORE_URL:
        process.env.BENCH_STORE === "memory" ? "memory://" : `sqlite://${join(dataDir, "bot.sqlite")}`,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      SLACK_BOT_TOKEN: fakes.slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fakes.slack.apiUrl,
      DISCORD_TOKEN: fakes.discord.token,
      DISCORD_API_URL: fakes.discord.apiUrl,
      DISCORD_GUILD_ID: fakes.discord.guild.id,
      ...env,
    };
    const child = fork(fileURLToPath(new URL("./bot-process.ts", import.meta.url)), {
      // BENCH_BOT_NODE_ARGS: extra node flags for the bot, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
      execArgv: ["--import", "tsx", ...(process.env.BENCH_BOT_NODE_ARGS?.split(" ").filter(Boolean) ?? [])],
      env: { ...process.env, BENCH_BOT: kind, BENCH_ENV: JSON.stringify(botEnv), NODE_ENV: "production" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [message] = (await Promise.race([
      once(child, "message"),
      once(child, "exit").then(([code]) => {
        throw new Error(`the ${kind} bot exited (${code}) while starting`);
      }),
    ])) as [{ type: string }];
    if (message.type !== "ready") throw new Error(`the ${kind} bot said ${message.type}`);
    const sender = new SlackEventSender({
      appUrl: `http://127.0.0.1:${port}`,
      signingSecret: SIGNING_SECRET,
      api: fakes.slack,
    });
    return new BotUnderTest(kind, child, fakes, sender, dataDir);
  }

  /**
   * Seat `i` mentions the bot with `text` in its own channel; resolves with the wall-clock time
   * it was sent and the channel its images land in.
   */
  async mention(platform: Platform, i: number, text: string): Promise<{ at: number; channel: string }> {
    const at = wallClock();
    if (platform === "slack") {
      const channel = `C0BENCH${String(i).padStart(4, "0")}`;
      const message = this.sender.userMessage({
        text: `<@${this.fakes.slack.botUserId}> ${text}`,
        channel,
        user: `U0BENCH${String(i).padStart(4, "0")}`,
      });
      const response = await this.sender.deliver(message, "app_mention");
      if (response.status !== 200) throw new Error(`Slack event answered ${response.status}`);
      return { at, channel };
    }
    const channel = this.fakes.discordChannel(i);
    await this.fakes.discord.sendMessageCreate({
      content: `${this.fakes.discord.mention(this.fakes.discord.bot)} ${text}`,
      author: seat(i).user,
      channelId: channel,
    });
    return { at, channel };
  }

  loopStart(): Promise<void> {
    return ask(this.child, "loop-start");
  }

  loopStop(): Promise<LoopReport> {
    return ask(this.child, "loop-stop");
  }

  /** Ours: the decode check alone on a 4K JPEG, `images` times in a row, in the bot's process. */
  checkCost(images: number): Promise<CheckCost | undefined> {
    return ask(this.child, "check-cost", images);
  }

  /** The bot's process id (its CPU time is read from /proc). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    const exited = once(this.child, "exit");
    await ask(this.child, "stop").catch(() => this.child.kill());
    await exited;
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
