import { readFileSync } from "node:fs";

/**
 * CPU accounting for the delivery bench: each process's own CPU time (every thread of it, so
 * libuv's pool and sharp's workers count), and the machine's busy time from /proc/stat, which
 * also holds whatever else runs on the machine.
 */

export interface CpuTime {
  user: number;
  system: number;
}

/** This process's CPU time so far (ms). */
export function cpuNow(): CpuTime {
  const usage = process.cpuUsage();
  return { user: usage.user / 1000, system: usage.system / 1000 };
}

export function cpuSince(start: CpuTime): CpuTime {
  const now = cpuNow();
  return { user: now.user - start.user, system: now.system - start.system };
}

export interface MachineTime {
  /** Core-milliseconds spent busy (user, nice, system, irq, softirq, steal) since boot. */
  busy: number;
  /** Core-milliseconds busy or idle since boot. */
  total: number;
}

/** The machine's CPU time from /proc/stat's first line (USER_HZ = 100 on Linux); undefined elsewhere. */
export function machineNow(): MachineTime | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [, ...fields] = line.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    return { busy: busy * 10, total: (busy + (idle ?? 0) + (iowait ?? 0)) * 10 };
  } catch {
    return undefined;
  }
}

/**
 * A process's CPU time so far (ms, all its threads) from /proc/<pid>/stat, or one thread's from
 * /proc/<pid>/task/<tid>/stat (a Node process's main thread, the one running JS, has tid = pid);
 * undefined if unreadable.
 */
export function processCpuMs(pid: number, tid?: number): number | undefined {
  try {
    const stat = readFileSync(
      tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
      "utf8",
    );
    // Fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export interface CpuSample {
  at: number;
  /** CPU ms so far per process name. */
  processes: Record<string, number>;
  machine: MachineTime | undefined;
}

/**
 * Samples the named processes' CPU time and the machine's every `everyMs` from /proc, without
 * asking the processes (a busy event loop would answer late).
 */
export class CpuSampler {
  readonly samples: CpuSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** `pids`: a process id per name, or `{ pid, tid }` for one thread of it. */
  constructor(private readonly pids: Record<string, number | { pid: number; tid: number }>) {}

  sample(): CpuSample {
    const processes: Record<string, number> = {};
    for (const [name, id] of Object.entries(this.pids))
      processes[name] =
        (typeof id === "number" ? processCpuMs(id) : processCpuMs(id.pid, id.tid)) ?? Number.NaN;
    const sample = { at: performance.timeOrigin + performance.now(), processes, machine: machineNow() };
    this.samples.push(sample);
    return sample;
  }

  start(everyMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** Cores used per process (and by the whole machine) between two wall-clock times. */
  coresBetween(from: number, to: number): { processes: Record<string, number>; machine: number } {
    const first = this.nearest(from);
    const last = this.nearest(to);
    const span = last.at - first.at;
    const processes: Record<string, number> = {};
    for (const name of Object.keys(this.pids))
      processes[name] = ((last.processes[name] ?? 0) - (first.processes[name] ?? 0)) / span;
    const machine =
      first.machine && last.machine
        ? (last.machine.busy - first.machine.busy) / (last.machine.total - first.machine.total)
        : Number.NaN;
    return { processes, machine: machine * cpuCount() };
  }

  /** CPU ms per process between two wall-clock times. */
  msBetween(from: number, to: number): Record<string, number> {
    const first = this.nearest(from);
    const last = this.nearest(to);
    const spent: Record<string, number> = {};
    for (const name of Object.keys(this.pids))
      spent[name] = (last.processes[name] ?? 0) - (first.processes[name] ?? 0);
    return spent;
  }

  private nearest(at: number): CpuSample {
    let best = this.samples[0] as CpuSample;
    for (const sample of this.samples) if (Math.abs(sample.at - at) < Math.abs(best.at - at)) best = sample;
    return best;
  }
}

const cpuCount = (): number => {
  try {
    return readFileSync("/proc/stat", "utf8")
      .split("\n")
      .filter((line) => /^cpu\d/.test(line)).length;
  } catch {
    return Number.NaN;
  }
};
