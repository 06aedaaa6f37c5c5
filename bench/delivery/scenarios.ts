/**
 * What the delivery bench asks of each bot, and what it reads at the fakes.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoopReport, SlotUse } from "./bot-process.js";
import type { BotUnderTest } from "./bots.js";
import { CpuSampler } from "./cpu.js";
import type { BenchFakes, Platform, SeedreamLog } from "./fakes.js";
import type { ImageTier, StreamPlan } from "./seedream-process.js";

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
  /** CPU ms per image delivered, per process (bot, driver, seedream), one run at a time. */
  cpuPerImage?: Record<string, number>;
}

/** The processes whose CPU the bench reads: the bot, the driver (the fakes), the fake Seedream. */
function samplerFor(bot: BotUnderTest, fakes: BenchFakes): CpuSampler {
  const pids: Record<string, number | { pid: number; tid: number }> = { driver: process.pid };
  if (bot.pid !== undefined) {
    pids.bot = bot.pid;
    // The bot's main thread alone: JavaScript and the GC's pauses run there, one core at most.
    pids.botMain = { pid: bot.pid, tid: bot.pid };
  }
  if (fakes.seedreamPid !== undefined) pids.seedream = fakes.seedreamPid;
  return new CpuSampler(pids);
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
  const sampler = samplerFor(bot, fakes);
  const from = sampler.sample().at;
  const done: { tag: string; platform: Platform; channel: string }[] = [];
  for (let k = 0; k < runs; k++) {
    const tag = `lat-${platform}-${tier}-${bot.kind}-${k}`;
    const { channel } = await bot.mention(platform, firstSeat + k, `${tag} a fox --n 2 --size ${tier}`);
    await fakes.waitImages(platform, channel, 2, 30_000);
    done.push({ tag, platform, channel });
    // The run's summary goes out before the next run starts.
    await sleep(250);
  }
  const to = sampler.sample().at;
  const lags = await imageLags(fakes, done);
  // Whole runs (mention, status, summary included), per image: what one image costs each process.
  const spent = sampler.msBetween(from, to);
  const cpuPerImage = Object.fromEntries(
    Object.entries(spent).map(([name, ms]) => [name, ms / Math.max(1, lags.length)]),
  );
  return { platform, tier, medianMs: median(lags), images: lags.length, cpuPerImage };
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

export type Pacing = NonNullable<StreamPlan["pacing"]>;

/** p50 and max of one stage of the runs' timelines (ms), with how many runs had it. */
export interface Spread {
  p50: number;
  p90: number;
  max: number;
  count: number;
}

const spread = (values: number[]): Spread => ({
  p50: median(values),
  p90: percentile(values, 90),
  max: values.length === 0 ? Number.NaN : Math.max(...values),
  count: values.length,
});

/**
 * Where a side's time went, per run and image, from the stamps of every process: the mention
 * sent (driver) → the request at the fake Seedream → each image's write begun and flushed there
 * → (Discord) the upload's POST begun at the fake → the image visible.
 */
export interface Timeline {
  toRequest: Spread;
  /** Request → image 1's write begun: the model's time, 5 s, when nothing is late. */
  toFirstWrite: Spread;
  /** Each image's write, begun → flushed into the socket: long when the bot does not read. */
  write: [Spread, Spread];
  /** Image 1 flushed → image 2's write begun. */
  betweenWrites: Spread;
  /** Image 2 ready at the fake (its write begun) → visible: the bot's and the platform's part. */
  secondReadyToVisible: Spread;
  /** Discord: flushed → the upload's POST begun (the bot's work: read, decode, check), both images. */
  flushedToUpload?: Spread;
  /** Discord: the upload's POST begun → the message visible (upload and the fake's parsing). */
  uploadToVisible?: Spread;
  /** The side's last image to be visible: each stage of its run, ms from the first mention. */
  last: { mention: number; request: number; writes: [number, number][]; upload?: number; visible: number };
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
  timeline?: Timeline;
}

/** CPU over the load (first mention → last image visible), from /proc: cores used on average. */
export interface LoadCpu {
  windowMs: number;
  /**
   * Cores used on average per process: the bot (and its main thread alone), the driver (Slack
   * and Discord fakes), the fake Seedream.
   */
  cores: Record<"bot" | "botMain" | "driver" | "seedream", number>;
  /** The whole machine's busy cores (everything on it, other work too). */
  machine: number;
  /** Bot CPU ms per image delivered. */
  botMsPerImage: number;
  /** Per second of the load: cores used by each process and the machine. */
  perSecond: {
    second: number;
    bot: number;
    botMain: number;
    driver: number;
    seedream: number;
    machine: number;
  }[];
}

/** Ours: how long images waited for one of the slots, and held it (ms). */
export interface SlotReport {
  wait: Spread;
  hold: Spread;
}

export interface LoadResult {
  pacing: Pacing;
  sides: LoadSide[];
  loop: LoopReport;
  /** The driver's (fakes') own event-loop delay p99, to show the fakes were not what lagged. */
  fakesLoopP99: number;
  cpu?: LoadCpu;
  /** The same, from the ideal's end to the Discord side's last image visible. */
  tail?: { windowMs: number; cores: LoadCpu["cores"]; machine: number };
  slots?: SlotReport;
}

function timeline(
  log: SeedreamLog,
  fakes: BenchFakes,
  platform: Platform,
  runs: { tag: string; at: number; channel: string }[],
  origin: number,
): Timeline | undefined {
  const rows = runs.flatMap((run) => {
    const request = log.requests.find((r) => r.prompt.includes(run.tag));
    if (!request) return [];
    const of = (list: typeof log.sent) =>
      list.filter((s) => s.request === request.number).sort((a, b) => a.index - b.index);
    const writing = of(log.writing);
    const sent = of(log.sent);
    const visible = (fakes.visible.get(`${platform}:${run.channel}`) ?? []).map((v) => v.at);
    const uploads = platform === "discord" ? (fakes.discordUploadsBegun.get(run.channel) ?? []) : [];
    const w0 = writing[0]?.at;
    const w1 = writing[1]?.at;
    const s0 = sent[0]?.at;
    const s1 = sent[1]?.at;
    if (w0 === undefined || w1 === undefined || s0 === undefined || s1 === undefined) return [];
    return [
      {
        run,
        request: request.at,
        writes: [
          [w0, s0],
          [w1, s1],
        ] as [number, number][],
        uploads,
        visible,
      },
    ];
  });
  if (rows.length === 0) return undefined;
  const diffs = (pick: (row: (typeof rows)[number]) => number[]) => spread(rows.flatMap(pick));
  const lastRow = rows.reduce((best, row) =>
    Math.max(...row.visible) > Math.max(...best.visible) ? row : best,
  );
  const lastVisible = Math.max(...lastRow.visible);
  const k = lastRow.visible.indexOf(lastVisible);
  const discord = platform === "discord";
  return {
    toRequest: diffs((row) => [row.request - row.run.at]),
    toFirstWrite: diffs((row) => [(row.writes[0]?.[0] ?? 0) - row.request]),
    write: [
      diffs((row) => [(row.writes[0]?.[1] ?? 0) - (row.writes[0]?.[0] ?? 0)]),
      diffs((row) => [(row.writes[1]?.[1] ?? 0) - (row.writes[1]?.[0] ?? 0)]),
    ],
    betweenWrites: diffs((row) => [(row.writes[1]?.[0] ?? 0) - (row.writes[0]?.[1] ?? 0)]),
    secondReadyToVisible: diffs((row) =>
      row.visible[1] === undefined ? [] : [row.visible[1] - (row.writes[1]?.[0] ?? 0)],
    ),
    ...(discord
      ? {
          flushedToUpload: diffs((row) =>
            row.uploads.slice(0, 2).map((upload, i) => upload - (row.writes[i]?.[1] ?? 0)),
          ),
          uploadToVisible: diffs((row) =>
            row.uploads.slice(0, 2).flatMap((upload, i) => {
              const shown = row.visible[i];
              return shown === undefined ? [] : [shown - upload];
            }),
          ),
        }
      : {}),
    last: {
      mention: lastRow.run.at - origin,
      request: lastRow.request - origin,
      writes: lastRow.writes.map(([from, to]) => [from - origin, to - origin]),
      ...(discord && lastRow.uploads[k] !== undefined
        ? { upload: (lastRow.uploads[k] as number) - origin }
        : {}),
      visible: lastVisible - origin,
    },
  };
}

function loadCpu(sampler: CpuSampler, from: number, to: number, images: number): LoadCpu {
  const whole = sampler.coresBetween(from, to);
  const spent = sampler.msBetween(from, to);
  const perSecond: LoadCpu["perSecond"] = [];
  for (let second = 0; from + (second + 1) * 1000 <= to + 999; second++) {
    const part = sampler.coresBetween(from + second * 1000, Math.min(to, from + (second + 1) * 1000));
    perSecond.push({
      second,
      bot: part.processes.bot ?? Number.NaN,
      botMain: part.processes.botMain ?? Number.NaN,
      driver: part.processes.driver ?? Number.NaN,
      seedream: part.processes.seedream ?? Number.NaN,
      machine: part.machine,
    });
  }
  return {
    windowMs: to - from,
    cores: {
      bot: whole.processes.bot ?? Number.NaN,
      botMain: whole.processes.botMain ?? Number.NaN,
      driver: whole.processes.driver ?? Number.NaN,
      seedream: whole.processes.seedream ?? Number.NaN,
    },
    machine: whole.machine,
    botMsPerImage: (spent.bot ?? Number.NaN) / images,
    perSecond,
  };
}

function slotReport(uses: SlotUse[] | undefined): SlotReport | undefined {
  if (!uses || uses.length === 0) return undefined;
  return {
    wait: spread(uses.map((use) => use.granted - use.asked)),
    hold: spread(uses.filter((use) => use.released > 0).map((use) => use.released - use.granted)),
  };
}

/**
 * `runs` 2-image 4K runs on each platform, all mentioned at once (each its own user and
 * channel); Seedream takes `delayMs` per image, on the clock `pacing` says. Ideal wall time:
 * from the first mention to the last run's second image leaving Seedream if the bot and the
 * platforms cost nothing, i.e. the latest mention + 2 × delayMs. Event-loop delay and peak RSS
 * are the bot process's; CPU time is every process's (sampled from /proc every 100 ms).
 */
export async function load(
  bot: BotUnderTest,
  fakes: BenchFakes,
  runs: number,
  delayMs: number,
  platforms: Platform[],
  pacing: Pacing,
): Promise<LoadResult> {
  await fakes.plan({ tier: "4K", delaysMs: [delayMs, delayMs], pacing });
  const own = monitorEventLoopDelay({ resolution: 1 });
  own.enable();
  await bot.loopStart();
  const sampler = samplerFor(bot, fakes);
  sampler.start(100);
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
  sampler.sample();
  // Late summaries and status edits still count towards the loop and memory figures.
  await sleep(2_000);
  sampler.stop();
  const loop = await bot.loopStop();
  own.disable();
  const log = await fakes.seedreamLog();
  const origin = Math.min(...sent.map((run) => run.at));
  const sides = platforms.map((platform): LoadSide => {
    const mine = sent.filter((run) => run.platform === platform);
    const first = Math.min(...mine.map((run) => run.at));
    const shown = mine.flatMap((run) => fakes.visible.get(`${platform}:${run.channel}`) ?? []);
    const last = Math.max(...shown.map((v) => v.at));
    const line = timeline(log, fakes, platform, mine, origin);
    return {
      platform,
      runs: mine.length,
      delivered: shown.length,
      expected: mine.length * 2,
      wallMs: last - first,
      idealMs: Math.max(...mine.map((run) => run.at)) + 2 * delayMs - first,
      imageLagP50: 0,
      imageLagP99: 0,
      ...(line ? { timeline: line } : {}),
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
  const lastVisible = Math.max(
    ...sent.flatMap((run) => (fakes.visible.get(`${run.platform}:${run.channel}`) ?? []).map((v) => v.at)),
  );
  const delivered = sides.reduce((n, side) => n + side.delivered, 0);
  const slots = slotReport(loop.slotLog);
  const discord = sides.find((side) => side.platform === "discord");
  const discordFirst = Math.min(...sent.filter((run) => run.platform === "discord").map((run) => run.at));
  const tailFrom = discordFirst + (discord?.idealMs ?? Number.NaN);
  const tailTo = discordFirst + (discord?.wallMs ?? Number.NaN);
  let tail: LoadResult["tail"];
  if (discord && tailTo > tailFrom) {
    const cpu = loadCpu(sampler, tailFrom, tailTo, 1);
    tail = { windowMs: tailTo - tailFrom, cores: cpu.cores, machine: cpu.machine };
  }
  // The slot log is long and already summarised.
  delete loop.slotLog;
  return {
    pacing,
    sides,
    loop,
    fakesLoopP99: own.percentile(99) / 1e6,
    cpu: loadCpu(sampler, origin, lastVisible, delivered),
    ...(tail ? { tail } : {}),
    ...(slots ? { slots } : {}),
  };
}
