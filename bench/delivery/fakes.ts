/**
 * The fakes the delivery bench drives, in the driver's process: Slack's Web API and Discord
 * (REST, gateway, CDN) from `test/fakes`, with each image's arrival stamped, and the fake
 * Seedream in a child process (`seedream-process.ts`). Both bots under test (ours and the bare
 * one) talk to the same fakes in turn.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { FakeDiscord } from "../../test/fakes/discord.js";
import { FakeSlackApi } from "../../test/fakes/slack-api.js";
import type { RecordedUpload, SlackRecord } from "../../test/fakes/slack-recorder.js";
import { ask, wallClock } from "./ipc.js";
import type { StreamPlan } from "./seedream-process.js";

export type Platform = "slack" | "discord";

/** One image made visible: where, and when (wall clock, ms). */
export interface Visible {
  platform: Platform;
  channel: string;
  at: number;
}

export interface SentImage {
  request: number;
  index: number;
  at: number;
}

/** What the fake Seedream saw: each image's write begun and flushed, each request's arrival. */
export interface SeedreamLog {
  sent: SentImage[];
  writing: SentImage[];
  requests: { number: number; prompt: string; at: number }[];
}

/** Enough users and channels that every concurrent run has its own. */
export const SEATS = 130;

export const seat = (i: number): { user: string; channel: string } => ({
  user: `user${i}`,
  channel: `room${i}`,
});

export class BenchFakes {
  private readonly waiters = new Set<{ key: string; count: number; resolve: () => void }>();
  readonly visible = new Map<string, Visible[]>();
  /** Per Discord channel: when each multipart message POST reached the fake (before its body). */
  readonly discordUploadsBegun = new Map<string, number[]>();

  private constructor(
    readonly slack: FakeSlackApi,
    readonly discord: FakeDiscord,
    private readonly seedream: ChildProcess,
    readonly seedreamUrl: string,
  ) {
    // Stamped where the fake records it: for Slack, the file shared by completeUploadExternal;
    // for Discord, the message created with its attachment.
    const add = slack.recorder.add.bind(slack.recorder);
    slack.recorder.add = (record: SlackRecord) => {
      add(record);
      if (record.kind === "upload" && (record as RecordedUpload).channel)
        this.stamp("slack", (record as RecordedUpload).channel as string);
    };
    // A multipart POST of a message is an image upload: its start, to tell the bot's time from
    // the upload's.
    const handle = discord.rest.handle.bind(discord.rest);
    discord.rest.handle = (req, res, url) => {
      const channel = /\/channels\/(\d+)\/messages$/.exec(url.pathname)?.[1];
      if (channel && req.method === "POST" && req.headers["content-type"]?.startsWith("multipart/")) {
        const list = this.discordUploadsBegun.get(channel) ?? [];
        list.push(wallClock());
        this.discordUploadsBegun.set(channel, list);
      }
      return handle(req, res, url);
    };
    const messages = discord.messages;
    const push = messages.push.bind(messages);
    messages.push = (posted) => {
      push(posted);
      if (posted.uploads.length > 0) this.stamp("discord", posted.channelId);
    };
  }

  static async start(): Promise<BenchFakes> {
    const seedream = fork(fileURLToPath(new URL("./seedream-process.ts", import.meta.url)), {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [ready] = (await once(seedream, "message")) as [{ payload: { url: string } }];
    const users = Array.from({ length: SEATS }, (_, i) => ({ username: seat(i).user }));
    const channels = Array.from({ length: SEATS }, (_, i) => seat(i).channel);
    const [slack, discord] = await Promise.all([
      FakeSlackApi.start(),
      FakeDiscord.start({ users, guilds: [{ name: "Bench", channels }] }),
    ]);
    return new BenchFakes(slack, discord, seedream, ready.payload.url);
  }

  /** Forgets the images seen so far: each bot is measured on the same seats (channels) afresh. */
  forget(): void {
    this.visible.clear();
    this.discordUploadsBegun.clear();
  }

  /** The Discord channel id of seat `i` (Slack channel ids are made up per run). */
  discordChannel(i: number): string {
    return this.discord.channel(seat(i).channel).id;
  }

  private stamp(platform: Platform, channel: string): void {
    const key = `${platform}:${channel}`;
    const list = this.visible.get(key) ?? [];
    list.push({ platform, channel, at: wallClock() });
    this.visible.set(key, list);
    for (const waiter of this.waiters) {
      if (waiter.key === key && list.length >= waiter.count) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Resolves once `count` images are visible in that channel (rejects after `timeoutMs`). */
  waitImages(platform: Platform, channel: string, count: number, timeoutMs: number): Promise<Visible[]> {
    const key = `${platform}:${channel}`;
    const done = () => (this.visible.get(key) ?? []).slice(0, count);
    if ((this.visible.get(key)?.length ?? 0) >= count) return Promise.resolve(done());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`${key}: ${this.visible.get(key)?.length ?? 0} of ${count} images after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const waiter = {
        key,
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(done());
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** The fake Seedream's next streams: this tier, these waits before each image. */
  plan(plan: StreamPlan): Promise<{ imageBytes: number }> {
    return ask(this.seedream, "plan", plan);
  }

  /** Every image the fake Seedream wrote since the last plan, and each request's prompt. */
  seedreamLog(): Promise<SeedreamLog> {
    return ask(this.seedream, "log");
  }

  /** The fake Seedream's process id (its CPU time is read from /proc). */
  get seedreamPid(): number | undefined {
    return this.seedream.pid;
  }

  /** Counts at the fakes, to subtract: Discord REST requests, Slack Web API calls and byte uploads. */
  counters(): { discordRest: number; slackCalls: number; slackUploads: number } {
    return {
      discordRest: this.discord.rest.requests.count,
      slackCalls: this.slack.recorder.calls.length,
      slackUploads: this.slack.byteUploads.length,
    };
  }

  async close(): Promise<void> {
    await ask(this.seedream, "close").catch(() => {});
    await Promise.allSettled([this.slack.close(), this.discord.close()]);
  }
}
