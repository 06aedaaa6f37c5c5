import { BenchFakes } from "./fakes.js";
import { BotUnderTest } from "./bots.js";
import { latency, calls, queue, load } from "./scenarios.js";
const fakes = await BenchFakes.start();
const which = (process.argv[2] ?? "ours") as "ours" | "bare";
const bot = await BotUnderTest.start(which, fakes, { MAX_CONCURRENT_RUNS: process.argv[3] ?? "4", ...(process.env.STORE ? { STORE_URL: process.env.STORE } : {}) });
try {
  if (process.argv[4] === "load") {
    console.log(JSON.stringify(await load(bot, fakes, Number(process.argv[5] ?? 50), Number(process.argv[6] ?? 5000), ["slack", "discord"]), null, 1));
  } else {
  console.log(await latency(bot, fakes, "slack", "4K", 0, 3));
  console.log(await latency(bot, fakes, "discord", "4K", 3, 3));
  console.log(await calls(bot, fakes, 10));
  }
} finally {
  await bot.stop();
  await fakes.close();
}
