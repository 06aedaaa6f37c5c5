/**
 * One bot under test in a process of its own (the fakes and the driver live in another), so its
 * event-loop delay and RSS are its own: `BENCH_BOT=ours` starts the real bot in embedded mode
 * (`main()`: Slack over HTTP and Discord in one process), `BENCH_BOT=bare` the bare baseline.
 * `BENCH_ENV` is the JSON of its environment.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { DecodeSlots } from "../../src/core/decode-slots.js";
import type { BareEnv } from "./bare-bot.js";
import { cpuNow, cpuSince } from "./cpu.js";
import { answer, wallClock } from "./ipc.js";
import { photo } from "./photos.js";

export interface LoopReport {
  /** Event-loop delay percentiles over the measured window (ms). */
  p50: number;
  p99: number;
  max: number;
  /**
   * Peak RSS over the window, sampled every 5 ms, MiB. Not getrusage's maxRSS: Linux carries
   * the forking parent's high-water mark across fork + exec, so a child of a big driver process
   * would report the driver's peak.
   */
  peakRssMiB: number;
  /** RSS when the window began, MiB. */
  startRssMiB: number;
  /** Log lines at warn or above the bot wrote (ours only). */
  warnings: string[];
  /** At the sample with the highest RSS: what V8's heap and Buffers held then, MiB. */
  atPeak: { rss: number; heapUsed: number; external: number; arrayBuffers: number };
  /** Ours: the most images in flight at once, and the most runs waiting for a slot (sampled). */
  slots?: { mostInUse: number; mostQueued: number };
  /** Ours: each image's slot, asked for, granted and freed (wall clock, ms), in the window. */
  slotLog?: SlotUse[];
}

export interface SlotUse {
  asked: number;
  granted: number;
  released: number;
}

/** The decode check alone on one 4K JPEG, one at a time, in this process (ms per image). */
export interface CheckCost {
  images: number;
  cpuMs: number;
  wallMs: number;
}

const kind = process.env.BENCH_BOT;
const env = JSON.parse(process.env.BENCH_ENV ?? "{}") as Record<string, string>;
const warnings: string[] = [];

let stop: () => Promise<void>;
let slots: DecodeSlots | undefined;
let checkImage: ((bytes: Buffer) => Promise<unknown>) | undefined;
if (kind === "bare") {
  const { startBareBot } = await import("./bare-bot.js");
  const bot = await startBareBot(env as unknown as BareEnv);
  stop = () => bot.stop();
} else {
  // BENCH_BOT_ROOT: another checkout's bot (a "before" in the same run); default this one.
  const root = process.env.BENCH_BOT_ROOT;
  const { main } = (await import(
    root ? `${root}/src/main.ts` : "../../src/main.js"
  )) as typeof import("../../src/main.js");
  const bot = await main(env, {
    terminal: false,
    writeLog: (line) => {
      if (/"level":"?(warn|error|fatal|40|50|60)/.test(line) && warnings.length < 20)
        warnings.push(line.slice(0, 600));
    },
  });
  stop = () => bot.stop();
  slots = (
    (await import(root ? `${root}/src/core/decode-slots.ts` : "../../src/core/decode-slots.js")) as Partial<
      typeof import("../../src/core/decode-slots.js")
    >
  ).imagesInFlight;
  const check = (await import(
    root ? `${root}/src/core/image-check.ts` : "../../src/core/image-check.js"
  )) as typeof import("../../src/core/image-check.js");
  checkImage = (bytes) => check.checkGeneratedImage(bytes);
}

// Each image's slot, timed: how long images wait for one and how long they hold it.
const slotLog: SlotUse[] = [];
let loggingSlots = false;
if (slots) {
  const acquire = slots.acquire.bind(slots);
  slots.acquire = async () => {
    const asked = wallClock();
    const release = await acquire();
    const use = { asked, granted: wallClock(), released: 0 };
    if (loggingSlots) slotLog.push(use);
    return () => {
      if (use.released === 0) use.released = wallClock();
      release();
    };
  };
}

// 1 ms resolution: the figure of interest is a p99 near 100 ms.
const delay = monitorEventLoopDelay({ resolution: 1 });
const most = { mostInUse: 0, mostQueued: 0 };
let startRss = process.memoryUsage.rss();
let atPeak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sampler = setInterval(() => {
  // memoryUsage() reads /proc; every 5 ms it costs well under 1% of a core.
  const usage = process.memoryUsage();
  if (usage.rss > atPeak.rss) atPeak = usage;
  if (!slots) return;
  most.mostInUse = Math.max(most.mostInUse, slots.inUse);
  most.mostQueued = Math.max(most.mostQueued, slots.queued);
}, 5);
sampler.unref();
const ms = (nanoseconds: number) => nanoseconds / 1e6;

answer({
  "loop-start": () => {
    delay.reset();
    delay.enable();
    warnings.length = 0;
    startRss = process.memoryUsage.rss();
    atPeak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    most.mostInUse = 0;
    most.mostQueued = 0;
    slotLog.length = 0;
    loggingSlots = true;
  },
  "loop-stop": (): LoopReport => {
    delay.disable();
    loggingSlots = false;
    return {
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
      peakRssMiB: atPeak.rss / 2 ** 20,
      startRssMiB: startRss / 2 ** 20,
      atPeak: {
        rss: atPeak.rss / 2 ** 20,
        heapUsed: atPeak.heapUsed / 2 ** 20,
        external: atPeak.external / 2 ** 20,
        arrayBuffers: atPeak.arrayBuffers / 2 ** 20,
      },
      warnings: [...warnings],
      ...(slots ? { slots: { ...most }, slotLog: [...slotLog] } : {}),
    };
  },
  "check-cost": async (payload): Promise<CheckCost | undefined> => {
    if (!checkImage) return undefined;
    const images = Number(payload);
    const bytes = await photo("4K");
    await checkImage(bytes);
    const cpu = cpuNow();
    const started = performance.now();
    for (let i = 0; i < images; i++) await checkImage(bytes);
    const spent = cpuSince(cpu);
    return {
      images,
      cpuMs: (spent.user + spent.system) / images,
      wallMs: (performance.now() - started) / images,
    };
  },
  stop: async () => {
    await stop();
    setImmediate(() => process.exit(0));
  },
});

process.send?.({ id: 0, type: "ready" });
