/**
 * `npm run bench` runs every benchmark that issue 15's figures come from, each writing its own
 * section of bench/RESULTS.md (and the README's tables): the SSE parser, the delivery bench
 * (ours against a bare bot: per-image latency, calls per run, queued status edits, 50
 * concurrent 4K runs) and the memory bench (bench/memory.ts, in fresh processes of its own).
 * About 6–8 minutes on 2 cores. Select parts: `npm run bench -- delivery:load memory`, or
 * `npm run bench -- sse`; parts: sse, delivery (= delivery:latency, delivery:calls,
 * delivery:queue, delivery:load), memory.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DELIVERY_PARTS, type DeliveryPart, runDelivery } from "./delivery.js";
import { runSse } from "./sse.js";

const ALL = ["sse", "delivery", "memory"] as const;

function selected(args: string[]): { sse: boolean; delivery: Set<DeliveryPart>; memory: boolean } {
  const wanted = args.length === 0 ? [...ALL] : args;
  const delivery = new Set<DeliveryPart>();
  let sse = false;
  let memory = false;
  for (const arg of wanted) {
    if (arg === "sse") sse = true;
    else if (arg === "memory") memory = true;
    else if (arg === "delivery") for (const part of DELIVERY_PARTS) delivery.add(part);
    else if (arg.startsWith("delivery:") && (DELIVERY_PARTS as readonly string[]).includes(arg.slice(9)))
      delivery.add(arg.slice(9) as DeliveryPart);
    else {
      console.error(
        `Unknown part "${arg}". Parts: ${ALL.join(", ")}, ${DELIVERY_PARTS.map((p) => `delivery:${p}`).join(", ")}.`,
      );
      process.exit(2);
    }
  }
  return { sse, delivery, memory };
}

const parts = selected(process.argv.slice(2));
const started = performance.now();
if (parts.sse) await runSse();
if (parts.delivery.size > 0) await runDelivery(parts.delivery);
if (parts.memory) {
  // The memory bench is its own program (one fresh process per measurement): run as it is.
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", "--expose-gc", fileURLToPath(new URL("./memory.ts", import.meta.url))],
    { stdio: "inherit" },
  );
  if (result.status !== 0) {
    console.error(`bench/memory.ts failed (${result.status ?? result.signal})`);
    process.exitCode = 1;
  }
}
console.log(`\nbench: done in ${((performance.now() - started) / 60_000).toFixed(1)} min`);
