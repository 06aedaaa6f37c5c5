/**
 * Scale-out figures (issue 14), real bot processes (`src/main.ts`, as in production) against
 * the fakes in this process (fake Slack: HTTP events in, Web API out; fake Seedream) and one
 * real `redis-server`:
 * 1. admitted: runs per second ADMITTED (the slash command acked with 200, the run recorded and
 *    queued, its status message posted in the channel) with 1 and with 3 gateway processes behind
 *    one Slack URL (requests spread round-robin, as a load balancer does). No worker runs: the
 *    figure is admission alone. Each round is a fresh Redis database and fresh processes.
 * 2. takeover: a gateway and two workers (WORKER_CONCURRENCY=1); a 3-image run is held after
 *    image 1, the worker running it is killed (SIGKILL), and the time is taken until the other
 *    worker's continuation reaches Seedream and until its next image is posted.
 * 3. capacity: how many concurrent runs one process holds on this machine: one all-role process
 *    on the default sqlite store, K runs at once, each 4 images of a real 2048x2048 JPEG
 *    (about 1.8 MB, decoded by the bot's image check) at one image per PACE_MS, as the real API
 *    paces them. Measured: the bot's CPU, its event loop lag, how long the runs took beyond the
 *    pace, and the ack time of slash commands sent meanwhile (Slack allows 3 s).
 * The fakes share the 2 cores with the bots, so every figure is conservative.
 * Run: npm run bench:scale [-- --quick] [-- --only admitted|takeover|capacity] (quick: one round,
 * K=BENCH_K or 25; BENCH_STORES=sqlite,redis picks the capacity stores; BENCH_DEBUG=1 echoes the
 * bots' logs). Writes its section of bench/RESULTS.md.
 */
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import sharp from "sharp";
import { Agent, setGlobalDispatcher } from "undici";
import { RUN_QUEUE_DEFAULTS } from "../src/queue/bullmq-run-queue.js";
import { type FakeSeedream, startFakeSeedream } from "../test/fakes/seedream-server.js";
import { FakeSlackApi } from "../test/fakes/slack-api.js";
import { SlackEventSender } from "../test/fakes/slack-events.js";
import { type BotProcess, spawnBot } from "../test/helpers/child-process.js";
import { freePort } from "../test/helpers/free-port.js";
import { parsePrometheus } from "../test/helpers/prometheus.js";
import { HOW_TO_RUN_REDIS, locateRedis } from "../test/helpers/redis-locate.js";
import { type RedisServer, startRedisServer } from "../test/helpers/redis-process.js";
import { writeResultsSection } from "./results-file.js";

const QUICK = process.argv.includes("--quick");
/** `--only admitted|takeover|capacity`: one part, printed (not written to RESULTS.md). */
const ONLY = process.argv[process.argv.indexOf("--only") + 1];
const part = (name: string) => !process.argv.includes("--only") || ONLY === name;
const SEEDREAM_KEY = "sk-bench-scale-secret-0123456789";
const SIGNING_SECRET = "bench-scale-signing-secret-0123456789abcdef";
const ADMIT = { rounds: QUICK ? 1 : 3, warmup: 30, requests: QUICK ? 150 : 400, inFlight: 32 };
const TAKEOVER_ROUNDS = QUICK ? 1 : 3;
const QUICK_K = [Number(process.env.BENCH_K ?? 25)];
const CAPACITY = {
  runs: QUICK ? { sqlite: QUICK_K, redis: QUICK_K } : { sqlite: [5, 10, 25], redis: [10, 25, 50, 100] },
  images: 4,
  paceMs: 5000,
  probes: 20,
};

interface Bot {
  process: BotProcess;
  port: number;
  sender: SlackEventSender;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const say = (line: string) => process.stderr.write(`bench:scale ${line}\n`);

class Bench {
  private readonly bots: Bot[] = [];
  private constructor(
    readonly redis: RedisServer,
    readonly api: FakeSlackApi,
    readonly seedream: FakeSeedream,
  ) {}

  static async start(): Promise<Bench> {
    const { binary } = locateRedis(process.env);
    if (binary === undefined) throw new Error(`bench:scale needs redis-server: ${HOW_TO_RUN_REDIS}`);
    const [redis, api, seedream] = await Promise.all([
      startRedisServer(binary),
      FakeSlackApi.start(),
      startFakeSeedream(),
    ]);
    return new Bench(redis, api, seedream);
  }

  /** A bot process with the fakes' env plus `env`, once it logs that it runs. */
  async bot(env: Record<string, string>): Promise<Bot> {
    const port = await freePort();
    const child = spawnBot({
      SEEDREAM_API_KEY: SEEDREAM_KEY,
      SEEDREAM_BASE_URL: this.seedream.url,
      SEEDREAM_MAX_RETRIES: "0",
      SLACK_BOT_TOKEN: this.api.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.api.apiUrl,
      PORT: String(port),
      LOG_LEVEL: "info",
      ...env,
    });
    if (process.env.BENCH_DEBUG)
      child.child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    await child.ready(120_000);
    const bot: Bot = {
      process: child,
      port,
      sender: new SlackEventSender({
        appUrl: `http://127.0.0.1:${port}`,
        signingSecret: SIGNING_SECRET,
        api: this.api,
      }),
    };
    this.bots.push(bot);
    return bot;
  }

  async stopBots(): Promise<void> {
    await Promise.all(this.bots.splice(0).map((bot) => bot.process.kill()));
  }

  async close(): Promise<void> {
    this.seedream.releaseAll();
    await this.stopBots();
    await Promise.allSettled([this.seedream.close(), this.api.close(), this.redis.dispose()]);
  }
}

/**
 * Sends `count` slash commands (a user and a channel of their own each) to `bots` round-robin,
 * `inFlight` at a time; resolves with each ack's milliseconds. Any answer but 200 is an error.
 */
async function slashCommands(
  bots: Bot[],
  count: number,
  tag: string,
  inFlight: number,
  flags = "",
): Promise<number[]> {
  const acks: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const bot = bots[i % bots.length] as Bot;
      const id = `${tag}${String(i).padStart(4, "0")}`;
      const ack = await bot.sender.slashCommand({
        text: `bench fox ${id}${flags}`,
        channelId: `C${id}`,
        userId: `U${id}`,
      });
      if (ack.status !== 200) throw new Error(`slash command ${id}: HTTP ${ack.status} ${ack.body}`);
      acks.push(ack.elapsedMs);
    }
  };
  await Promise.all(range(Math.min(inFlight, count)).map(lane));
  return acks;
}

/** Resolves once every one of `count` channels tagged `tag` has the run's status message. */
function statusesPosted(bench: Bench, tag: string, count: number): Promise<unknown> {
  return bench.api.recorder.waitFor(
    "message",
    count,
    (message) => message.channel.startsWith(`C${tag}`) && message.threadTs === undefined,
    { timeoutMs: 180_000 },
  );
}

interface Admission {
  processes: number;
  rounds: Round[];
}

interface Round {
  perSecond: number;
  ackP95: number;
  /** CPU seconds per second of the round: the bots together, the bench (fakes and load), Redis. */
  cpu: { bots: number; bench: number; redis: number };
}

/** Redis's own CPU seconds so far (INFO cpu). */
async function redisCpu(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const field = (name: string) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, "m"))?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

/** Jobs in the run queue (every state): what the gateways really handed to the workers. */
async function queuedJobs(redis: Redis): Promise<number> {
  const queue = new Queue(RUN_QUEUE_DEFAULTS.name, { connection: redis, prefix: RUN_QUEUE_DEFAULTS.prefix });
  const counts = await queue.getJobCounts();
  await queue.close();
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** Resolves once the run queue holds `expected` jobs; throws if it holds more, or fewer for 15 s. */
async function allQueued(redis: Redis, expected: number): Promise<void> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const jobs = await queuedJobs(redis);
    if (jobs === expected) return;
    if (jobs > expected || performance.now() > deadline) {
      throw new Error(`${expected} requests acked and told, but ${jobs} jobs in the run queue`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function admitted(bench: Bench, processes: number, round: number, db: number): Promise<Round> {
  const bots = await Promise.all(
    range(processes).map(() =>
      bench.bot({
        STORE_URL: `${bench.redis.url}/${db}`,
        BOT_ROLE: "gateway",
        MAX_QUEUE_LENGTH: "1000",
        MAX_QUEUED_PER_USER: "1000",
      }),
    ),
  );
  const redis = new Redis(`${bench.redis.url}/${db}`, { maxRetriesPerRequest: null });
  const warm = `W${processes}R${round}X`;
  await slashCommands(bots, ADMIT.warmup, warm, ADMIT.inFlight);
  await statusesPosted(bench, warm, ADMIT.warmup);
  await allQueued(redis, ADMIT.warmup);
  const tag = `A${processes}R${round}X`;
  const cpuBefore = { bots: await botsCpu(bots), bench: process.cpuUsage(), redis: await redisCpu(redis) };
  const started = performance.now();
  const acks = await slashCommands(bots, ADMIT.requests, tag, ADMIT.inFlight);
  await statusesPosted(bench, tag, ADMIT.requests);
  // The status is posted just before the job is added: the clock stops once both are there.
  await allQueued(redis, ADMIT.warmup + ADMIT.requests);
  const seconds = (performance.now() - started) / 1000;
  const benchCpu = process.cpuUsage(cpuBefore.bench);
  const cpu = {
    bots: ((await botsCpu(bots)) - cpuBefore.bots) / seconds,
    bench: (benchCpu.user + benchCpu.system) / 1e6 / seconds,
    redis: ((await redisCpu(redis)) - cpuBefore.redis) / seconds,
  };
  const jobs = await queuedJobs(redis);
  await redis.quit();
  await bench.stopBots();
  if (jobs !== ADMIT.warmup + ADMIT.requests) {
    throw new Error(
      `${ADMIT.warmup + ADMIT.requests} requests acked and told, but ${jobs} jobs in the run queue`,
    );
  }
  return { perSecond: ADMIT.requests / seconds, ackP95: percentile(acks, 95), cpu };
}

const botsCpu = async (bots: Bot[]): Promise<number> =>
  (await Promise.all(bots.map((bot) => sample(bot)))).reduce((sum, s) => sum + s.cpu, 0);

async function admission(bench: Bench): Promise<Admission[]> {
  const results: Admission[] = [1, 3].map((processes) => ({ processes, rounds: [] }));
  let db = 0;
  for (const round of range(ADMIT.rounds)) {
    for (const result of results) {
      const measured = await admitted(bench, result.processes, round, ++db);
      result.rounds.push(measured);
      say(`admitted, ${result.processes} process(es), round ${round + 1}: ${JSON.stringify(measured)}`);
    }
  }
  return results;
}

interface Takeover {
  toSeedreamMs: number;
  toImageMs: number;
}

/** The worker among `workers` that logged "run started" for `user`. */
async function runnerOf(workers: Bot[], user: string): Promise<Bot> {
  const pattern = new RegExp(`^(?=.*"msg":"run started")(?=.*"user":"${user}")`);
  return Promise.race(workers.map((w) => w.process.waitForLog(pattern, 60_000).then(() => w)));
}

async function takeovers(bench: Bench): Promise<Takeover[]> {
  const env = { STORE_URL: `${bench.redis.url}/15`, MAX_CONCURRENT_RUNS: "10" };
  const worker = () => bench.bot({ ...env, BOT_ROLE: "worker", WORKER_CONCURRENCY: "1" });
  const [gateway, ...started] = await Promise.all([
    bench.bot({ ...env, BOT_ROLE: "gateway" }),
    worker(),
    worker(),
  ]);
  let workers: Bot[] = started;
  const results: Takeover[] = [];
  for (const round of range(TAKEOVER_ROUNDS)) {
    const { seedream, api } = bench;
    seedream.reset();
    seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const id = `TAKEOVER${round}`;
    const channel = `C${id}`;
    await (gateway as Bot).sender.slashCommand({
      text: "three herons --n 3",
      channelId: channel,
      userId: `U${id}`,
    });
    const runner = await runnerOf(workers, `U${id}`);
    await api.recorder.waitFor("update", 1, { channel, text: /1\/3 done/ }, { timeoutMs: 60_000 });
    seedream.setScenario({});
    const killed = performance.now();
    await runner.process.kill();
    await seedream.request(1);
    const toSeedreamMs = performance.now() - killed;
    await api.recorder.waitFor("upload", 2, { channel }, { timeoutMs: 60_000 });
    const toImageMs = performance.now() - killed;
    results.push({ toSeedreamMs, toImageMs });
    say(
      `takeover ${round + 1}: Seedream asked again after ${toSeedreamMs.toFixed(0)} ms, image 2 after ${toImageMs.toFixed(0)} ms`,
    );
    await api.recorder.waitFor("upload", 3, { channel }, { timeoutMs: 60_000 });
    workers = [...workers.filter((w) => w !== runner), await worker()];
  }
  await bench.stopBots();
  return results;
}

interface Capacity {
  store: Store;
  runs: number;
  /** Runs that posted "Done: 4 of 4" within the pace plus 90 s. */
  finished: number;
  /** Log lines naming a StoreUnavailableError. */
  storeErrors: number;
  cpuPercent: number;
  lagP99Ms: number;
  overP50Ms: number;
  overP95Ms: number;
  ackP95Ms: number;
  ackMaxMs: number;
}

/**
 * The bot's process CPU seconds and event loop lag p99 (prom-client's default metrics). A
 * kept-alive connection the server has just closed fails once: asked again.
 */
async function sample(bot: Bot, attempts = 3): Promise<{ cpu: number; lagP99: number }> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${bot.port}/metrics`)).text();
    const families = parsePrometheus(text);
    const value = (name: string) =>
      Number(families.find((f) => f.name === name)?.metrics[0]?.value ?? Number.NaN);
    return { cpu: value("process_cpu_seconds_total"), lagP99: value("nodejs_eventloop_lag_p99_seconds") };
  } catch (error) {
    if (attempts <= 1) throw error;
    return sample(bot, attempts - 1);
  }
}

type Store = "sqlite" | "redis";

async function capacity(bench: Bench, store: Store, runs: number, image: Buffer): Promise<Capacity> {
  const { seedream, api } = bench;
  seedream.reset();
  seedream.setScenario({
    images: range(CAPACITY.images).map(() => ({
      kind: "ok" as const,
      delayMs: CAPACITY.paceMs,
      bytes: image,
    })),
  });
  const storeUrl =
    store === "sqlite"
      ? `sqlite://${join(tmpdir(), `seedream-bench-scale-${process.pid}-${runs}.sqlite`)}`
      : `${bench.redis.url}/${14 - CAPACITY.runs.redis.indexOf(runs)}`;
  const bot = await bench.bot({
    STORE_URL: storeUrl,
    MAX_CONCURRENT_RUNS: String(runs),
    WORKER_CONCURRENCY: String(runs),
    MAX_QUEUE_LENGTH: "1000",
  });
  const tag = `${store === "sqlite" ? "S" : "R"}${runs}X`;
  const paced = CAPACITY.images * CAPACITY.paceMs;
  const ends: number[] = [];
  const started = performance.now();
  // A run that never ends (the store failing under it) is counted as not finished, not waited for.
  const done = range(runs).map((i) =>
    api.recorder
      .waitFor(
        "update",
        1,
        { channel: `C${tag}${String(i).padStart(4, "0")}`, text: /^Done: 4 of 4/m },
        {
          timeoutMs: paced + 90_000,
        },
      )
      .then(
        () => ends.push(performance.now() - started - paced),
        () => {},
      ),
  );
  const before = await sample(bot);
  const acks = await slashCommands([bot], runs, tag, 32, ` --n ${CAPACITY.images}`);
  // Meanwhile, someone asks for help: the ack a Slack user waits for while the bot is busy.
  const probeAcks: number[] = [];
  const probing = (async () => {
    for (const i of range(CAPACITY.probes)) {
      await new Promise((resolve) => setTimeout(resolve, paced / CAPACITY.probes));
      const ack = await bot.sender.slashCommand({
        text: "help",
        channelId: "C0PROBE001",
        userId: `U0PROBE${i}`,
      });
      probeAcks.push(ack.elapsedMs);
    }
  })();
  let lagP99 = 0;
  const sampler = setInterval(() => {
    sample(bot).then(
      (s) => {
        lagP99 = Math.max(lagP99, s.lagP99);
      },
      () => {},
    );
  }, 1000);
  await Promise.all([...done, probing]);
  clearInterval(sampler);
  const after = await sample(bot);
  const wall = (performance.now() - started) / 1000;
  const allAcks = [...acks, ...probeAcks];
  const storeErrors = bot.process.logs.filter((line) => line.includes("StoreUnavailableError")).length;
  await bench.stopBots();
  const result = {
    store,
    runs,
    finished: ends.length,
    storeErrors,
    cpuPercent: ((after.cpu - before.cpu) / wall) * 100,
    lagP99Ms: lagP99 * 1000,
    overP50Ms: percentile(ends, 50),
    overP95Ms: percentile(ends, 95),
    ackP95Ms: percentile(allAcks, 95),
    ackMaxMs: Math.max(...allAcks),
  };
  say(`capacity: ${JSON.stringify(result)}`);
  return result;
}

async function main(): Promise<void> {
  // A fresh connection per request: a kept-alive socket the bot's server closes just as the
  // next request goes out would fail that request (ECONNRESET) for no fault of the bot's.
  setGlobalDispatcher(new Agent({ pipelining: 0 }));
  const load = loadavg()[0] ?? 0;
  const bench = await Bench.start();
  // Interrupted (Ctrl-C, a timeout): no bot process or redis-server is left behind.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void bench.close().finally(() => process.exit(130));
    });
  }
  try {
    const image = await sharp({
      create: {
        width: 2048,
        height: 2048,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 40 },
      },
    })
      .jpeg({ quality: 85 })
      .toBuffer();
    const loads: Record<string, string> = {};
    const loadNow = () => (loadavg()[0] ?? 0).toFixed(1);
    loads.admitted = loadNow();
    const admissions = part("admitted") ? await admission(bench) : [];
    loads.takeover = loadNow();
    const takeover = part("takeover") ? await takeovers(bench) : [];
    loads.capacity = loadNow();
    const capacities: Array<Capacity | { store: Store; runs: number; error: string }> = [];
    if (part("capacity")) {
      for (const store of (process.env.BENCH_STORES?.split(",") ?? ["sqlite", "redis"]) as Store[]) {
        for (const runs of CAPACITY.runs[store]) {
          // One failed measurement is reported in its row; the others still run.
          capacities.push(
            await capacity(bench, store, runs, image).catch((error: unknown) => {
              say(`capacity ${store} ${runs} failed: ${String(error)}`);
              return { store, runs, error: String(error) };
            }),
          );
          await bench.stopBots();
        }
      }
    }
    const [one, three] = admissions;
    const perSecond = (a: Admission) => median(a.rounds.map((r) => r.perSecond));
    const ratio = one && three ? perSecond(three) / perSecond(one) : Number.NaN;
    const f0 = (n: number) => n.toFixed(0);
    const s1 = (ms: number) => (ms / 1000).toFixed(1);
    const markdown = `
# Scale-out benchmark: admission, takeover, one process's capacity

Real bot processes (\`src/main.ts\`) against the fake Slack (signed HTTP events in, Web API out)
and the fake Seedream in the bench's own process, one real \`redis-server\`. Node ${process.version},
${cpus().length} cores, load average ${load.toFixed(1)} at start, ${new Date().toISOString().slice(0, 10)}.
\`npm run bench:scale\` to reproduce. The fakes share the cores with the bots: the figures are conservative.

**Runs per second admitted** (a slash command acked 200, its run recorded and queued in Redis, its
status message posted), ${ADMIT.requests} requests per round from distinct users, ${ADMIT.inFlight} in flight,
spread round-robin over BOT_ROLE=gateway processes behind one Slack URL (no worker: admission alone);
${ADMIT.warmup} warm-up requests first; ${ADMIT.rounds} rounds, interleaved, each on a fresh Redis
database and fresh processes; median. Load average ${loads.admitted} when this part started.

| gateway processes | runs/s admitted | each round | ack p95 (ms) | CPU: bots / bench (fakes, load) / Redis (cores) |
|---:|---:|---|---:|---|
${admissions
  .map((a) => {
    const of = (pick: (r: Round) => number) => median(a.rounds.map(pick));
    const cpu = `${of((r) => r.cpu.bots).toFixed(2)} / ${of((r) => r.cpu.bench).toFixed(2)} / ${of((r) => r.cpu.redis).toFixed(2)}`;
    return `| ${a.processes} | **${f0(of((r) => r.perSecond))}** | ${a.rounds.map((r) => f0(r.perSecond)).join(", ")} | ${f0(of((r) => r.ackP95))} | ${cpu} |`;
  })
  .join("\n")}

- 3 processes / 1 process: **${ratio.toFixed(2)}×** (${cpus().length} cores shared by the processes, Redis and the fakes).
- The clock stops once every status message is posted and the run queue (BullMQ) holds exactly the
  requests sent, warm-up included (a lost or doubled job fails the bench).

**Takeover after kill -9**: a gateway and two workers (WORKER_CONCURRENCY=1); a 3-image run held
after image 1; the worker running it killed (SIGKILL). ${TAKEOVER_ROUNDS} rounds. Load average ${loads.takeover} when this part started.

| round | kill → the other worker asks Seedream again (s) | kill → image 2 posted (s) |
|---:|---:|---:|
${takeover.map((t, i) => `| ${i + 1} | ${s1(t.toSeedreamMs)} | ${s1(t.toImageMs)} |`).join("\n")}

- median **${s1(median(takeover.map((t) => t.toSeedreamMs)))} s** to the continuation (issue 14 asks within 30 s).

**Concurrent runs one process holds**: one all-role process, MAX_CONCURRENT_RUNS (and
WORKER_CONCURRENCY) = K, K runs at once from distinct users, each ${CAPACITY.images} images of a real
2048×2048 JPEG (${(image.byteLength / 1e6).toFixed(1)} MB, decoded by the bot's image check) at one image per
${CAPACITY.paceMs / 1000} s (the real API is slower: a run then holds the process longer but costs it less per second).
"Finished": runs that posted "Done: 4 of 4" within the pace plus 90 s; "beyond the pace": how much
longer than ${(CAPACITY.images * CAPACITY.paceMs) / 1000} s they took; "store errors": log lines naming a
StoreUnavailableError; acks: the K requests and ${CAPACITY.probes} \`help\` commands sent during the runs.
Load average ${loads.capacity} when this part started.

| store | K runs at once | finished | store errors | bot CPU | event loop lag p99 (ms) | beyond the pace p50 / p95 (s) | ack p95 / max (ms) |
|---|---:|---:|---:|---:|---:|---:|---:|
${capacities.map((c) => ("error" in c ? `| ${c.store} | ${c.runs} | failed: ${c.error} | | | | | |` : `| ${c.store} | ${c.runs} | ${c.finished} | ${c.storeErrors} | ${f0(c.cpuPercent)} % | ${f0(c.lagP99Ms)} | ${s1(c.overP50Ms)} / ${s1(c.overP95Ms)} | ${f0(c.ackP95Ms)} / ${f0(c.ackMaxMs)} |`)).join("\n")}
`;
    if (QUICK || process.argv.includes("--only")) process.stdout.write(markdown);
    else writeResultsSection("scale", markdown);
  } finally {
    await bench.close();
  }
}

await main();
