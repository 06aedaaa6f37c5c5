/**
 * One bot, N one-at-a-time 2-image runs on one platform, for reading the bot's GC with V8's
 * tracing (not a bench figure; nothing is written). The bot's flags come from
 * BENCH_BOT_NODE_ARGS and its trace goes to this process's stdout, between PROBE-START and
 * PROBE-END (the warm-up runs come before):
 *
 *   BENCH_BOT_NODE_ARGS="--trace-gc --trace-incremental-marking" \
 *     node --import tsx bench/delivery/gc-probe.ts ours discord 15 4K > /tmp/gc.txt
 *   awk '/PROBE-START/{s=1} s' /tmp/gc.txt | grep -c Mark-Compact
 *
 * Arguments: bot (ours | bare), platform (slack | discord), runs, size (2K | 4K).
 */
import { type BotKind, BotUnderTest } from "./bots.js";
import { BenchFakes, type Platform } from "./fakes.js";
import type { ImageTier } from "./photos.js";
import { latency } from "./scenarios.js";

const [kind = "ours", platform = "discord", runs = "15", tier = "4K"] = process.argv.slice(2);
const fakes = await BenchFakes.start();
const bot = await BotUnderTest.start(kind as BotKind, fakes, { MAX_CONCURRENT_RUNS: "100" });
try {
  // Warm-up, as the bench does: the first runs of a process pay for JIT and connections.
  await latency(bot, fakes, "slack", "2K", 100, 1);
  await latency(bot, fakes, "discord", "2K", 101, 1);
  console.log("PROBE-START", Date.now());
  const result = await latency(bot, fakes, platform as Platform, tier as ImageTier, 0, Number(runs));
  console.log("PROBE-END", Date.now(), JSON.stringify(result));
} finally {
  await bot.stop();
  await fakes.close();
}
