/**
 * One bot under test in a process of its own (the fakes and the driver live in another), so its
 * event-loop delay and RSS are its own: `BENCH_BOT=ours` starts the real bot in embedded mode
 * (`main()`: Slack over HTTP and Discord in one process), `BENCH_BOT=bare` the bare baseline.
 * `BENCH_ENV` is the JSON of its environment.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { BareEnv } from "./bare-bot.js";
import { answer } from "./ipc.js";

export interface LoopReport {
  /** Event-loop delay percentiles over the measured window (ms). */
  p50: number;
  p99: number;
  max: number;
  /** Peak RSS of the process so far (the kernel's high-water mark), MiB. */
  peakRssMiB: number;
  /** Log lines at warn or above the bot wrote (ours only). */
  warnings: string[];
}

const kind = process.env.BENCH_BOT;
const env = JSON.parse(process.env.BENCH_ENV ?? "{}") as Record<string, string>;
const warnings: string[] = [];

let stop: () => Promise<void>;
if (kind === "bare") {
  const { startBareBot } = await import("./bare-bot.js");
  const bot = await startBareBot(env as unknown as BareEnv);
  stop = () => bot.stop();
} else {
  const { main } = await import("../../src/main.js");
  const bot = await main(env, {
    terminal: false,
    writeLog: (line) => {
      if (/"level":"?(warn|error|fatal|40|50|60)/.test(line) && warnings.length < 20) warnings.push(line.slice(0, 600));
    },
  });
  stop = () => bot.stop();
}

// 1 ms resolution: the figure of interest is a p99 near 100 ms.
const delay = monitorEventLoopDelay({ resolution: 1 });
const ms = (nanoseconds: number) => nanoseconds / 1e6;

answer({
  "loop-start": () => {
    delay.reset();
    delay.enable();
    warnings.length = 0;
  },
  "loop-stop": (): LoopReport => {
    delay.disable();
    return {
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      warnings: [...warnings],
    };
  },
  stop: async () => {
    await stop();
    setImmediate(() => process.exit(0));
  },
});

process.send?.({ id: 0, type: "ready" });
