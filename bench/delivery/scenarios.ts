/**
 * What the delivery bench asks of each bot, and what it reads at the fakes.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoopReport } from "./bot-process.js";
import type { BotUnderTest } from "./bots.js";
import type { BenchFakes, Platform } from "./fakes.js";
import type { ImageTier } from "./seedream-process.js";

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

/** Each run's images, matched to the Seedream request that carried its tag in the prompt. */
async function imageLags(
  fakes: BenchFakes,
  runs: { tag: string; platform: Platform; channel: string }[],
): Promise<number[]> {
  const log = await fakes.seedreamLog();
  const lags: number[] = [];
  for (const run of runs) {
    const request = log.requests.find((r) => r.prompt.includes(run.tag));
    if (!request) continue;
    const sent = log.sent.filter((s) => s.request === request.number).sort((a, b) => a.index - b.index);
    const visible = fakes.visible.get(`${run.platform}:${run.channel}`) ?? [];
    sent.forEach((image, k) => {
      const shown = visible[k];
      if (shown) lags.push(shown.at - image.at);
    });
  }
  return lags;
}

export interface LatencyResult {
  platform: Platform;
  tier: ImageTier;
  medianMs: number;
  images: number;
}

/**
 * Per image, from the fake Seedream writing its event to the fake platform having it visible,
 * one run at a time (2 images, 400 ms apart, so they never overlap). Median of `runs` × 2.
 */
export async function latency(
  bot: BotUnderTest,
  fakes: BenchFakes,
  platform: Platform,
  tier: ImageTier,
  firstSeat: number,
  runs: number,
): Promise<LatencyResult> {
  await fakes.plan({ tier, delaysMs: [150, 400] });
  const done: { tag: string; platform: Platform; channel: string }[] = [];
  for (let k = 0; k < runs; k++) {
    const tag = `lat-${platform}-${tier}-${bot.kind}-${k}`;
    const { channel } = await bot.mention(platform, firstSeat + k, `${tag} a fox --n 2 --size ${tier}`);
    await fakes.waitImages(platform, channel, 2, 30_000);
    done.push({ tag, platform, channel });
    // The run's summary goes out before the next run starts.
    await sleep(250);
  }
  const lags = await imageLags(fakes, done);
  return { platform, tier, medianMs: median(lags), images: lags.length };
}

export interface CallsResult {
  discordRest: number;
  slackCalls: number;
}

/**
 * The platform calls one 2-image mention run makes, counted at the fakes: Discord REST
 * requests; Slack Web API calls plus the POSTs of bytes to upload URLs. Waits 2 s after the
 * second image (past the status throttle's 1.5 s) so late calls are counted too.
 */
export async function calls(bot: BotUnderTest, fakes: BenchFakes, seatIndex: number): Promise<CallsResult> {
  await fakes.plan({ tier: "2K", delaysMs: [100, 100] });
  const count = async (platform: Platform): Promise<number> => {
    const before = fakes.counters();
    const { channel } = await bot.mention(platform, seatIndex, `calls-${platform}-${bot.kind} an owl --n 2`);
    await fakes.waitImages(platform, channel, 2, 30_000);
    await sleep(2_000);
    const after = fakes.counters();
    return platform === "discord"
      ? after.discordRest - before.discordRest
      : after.slackCalls - before.slackCalls + after.slackUploads - before.slackUploads;
  };
  return { discordRest: await count("discord"), slackCalls: await count("slack") };
}

export interface QueueResult {
  platform: Platform;
  served: number;
  statusEdits: number;
  wallMs: number;
}

/**
 * `runs` users mention the bot at once (each in their own channel, 2 images a second apart):
 * with MAX_CONCURRENT_RUNS=4 and MAX_QUEUE_LENGTH=20 (the defaults) 4 run and 20 wait. Counts
 * the status edits at the fake: Slack chat.update, Discord PATCH of a message.
 */
export async function queue(
  bot: BotUnderTest,
  fakes: BenchFakes,
  platform: Platform,
  firstSeat: number,
  runs: number,
): Promise<QueueResult> {
  await fakes.plan({ tier: "2K", delaysMs: [500, 500] });
  const edits = () =>
    platform === "slack"
      ? fakes.slack.recorder.calls.filter((c) => c.method === "chat.update").length
      : fakes.discord.rest.requests.all.filter((r) => r.method === "PATCH" && /\/messages\//.test(r.path))
          .length;
  const before = edits();
  const started = performance.now();
  const sent = await Promise.all(
    Array.from({ length: runs }, (_, k) =>
      bot.mention(platform, firstSeat + k, `queue-${platform}-${bot.kind}-${k} a heron --n 2`),
    ),
  );
  await Promise.all(sent.map(({ channel }) => fakes.waitImages(platform, channel, 2, 120_000)));
  const wallMs = performance.now() - started;
  await sleep(2_000);
  return { platform, served: sent.length, statusEdits: edits() - before, wallMs };
}

export interface LoadSide {
  platform: Platform;
  runs: number;
  delivered: number;
  expected: number;
  wallMs: number;
  idealMs: number;
  imageLagP50: number;
  imageLagP99: number;
}

export interface LoadResult {
  sides: LoadSide[];
  loop: LoopReport;
  /** The driver's (fakes') own event-loop delay p99, to show the fakes were not what lagged. */
  fakesLoopP99: number;
}

/**
 * `runs` 2-image 4K runs on each platform, all mentioned at once (each its own user and
 * channel); Seedream takes `delayMs` per image. Ideal wall time: from the first mention to the
 * last run's second image leaving Seedream if the bot and the platforms cost nothing, i.e. the
 * latest mention + 2 × delayMs. Event-loop delay and peak RSS are the bot process's.
 */
export async function load(
  bot: BotUnderTest,
  fakes: BenchFakes,
  runs: number,
  delayMs: number,
  platforms: Platform[],
): Promise<LoadResult> {
  await fakes.plan({ tier: "4K", delaysMs: [delayMs, delayMs] });
  const own = monitorEventLoopDelay({ resolution: 1 });
  own.enable();
  await bot.loopStart();
  const jobs = platforms.flatMap((platform) =>
    Array.from({ length: runs }, (_, k) => ({ platform, seat: k, tag: `load-${platform}-${bot.kind}-${k}` })),
  );
  const sent = await Promise.all(
    jobs.map(async (job) => ({
      ...job,
      ...(await bot.mention(job.platform, job.seat, `${job.tag} a lighthouse --n 2 --size 4K`)),
    })),
  );
  const timeoutMs = 2 * delayMs + 60_000;
  const settled = await Promise.allSettled(
    sent.map((run) => fakes.waitImages(run.platform, run.channel, 2, timeoutMs)),
  );
  // Late summaries and status edits still count towards the loop and memory figures.
  await sleep(2_000);
  const loop = await bot.loopStop();
  own.disable();
  const sides = platforms.map((platform): LoadSide => {
    const mine = sent.filter((run) => run.platform === platform);
    const first = Math.min(...mine.map((run) => run.at));
    const shown = mine.flatMap((run) => fakes.visible.get(`${platform}:${run.channel}`) ?? []);
    const last = Math.max(...shown.map((v) => v.at));
    return {
      platform,
      runs: mine.length,
      delivered: shown.length,
      expected: mine.length * 2,
      wallMs: last - first,
      idealMs: Math.max(...mine.map((run) => run.at)) + 2 * delayMs - first,
      imageLagP50: 0,
      imageLagP99: 0,
    };
  });
  for (const side of sides) {
    const sideLags = await imageLags(
      fakes,
      sent.filter((run) => run.platform === side.platform),
    );
    side.imageLagP50 = median(sideLags);
    side.imageLagP99 = percentile(sideLags, 99);
  }
  const failed = settled.filter((s) => s.status === "rejected").length;
  if (failed > 0) console.error(`${bot.kind}: ${failed} runs did not show both images`);
  return { sides, loop, fakesLoopP99: own.percentile(99) / 1e6 };
}
