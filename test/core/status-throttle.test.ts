import { describe, expect, it } from "vitest";
import { StatusThrottle, type StatusTimers } from "../../src/core/status-throttle.js";

/** A clock whose timers fire only when the test advances it. */
class ManualClock implements StatusTimers {
  time = 0;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  now(): number {
    return this.time;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.at <= this.time);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const timer of due) timer.fn();
  }

  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function line(interval = 1000) {
  const clock = new ManualClock();
  const sent: string[] = [];
  const errors: unknown[] = [];
  const status = new StatusThrottle(
    async (text) => {
      if (text === "boom") throw new Error("slack said no");
      sent.push(text);
    },
    interval,
    clock,
    (error) => errors.push(error),
  );
  return { clock, sent, errors, status };
}

describe("status throttle (latest value wins)", () => {
  it("sends the first text at once and only the newest one per interval after that", async () => {
    const { clock, sent, status } = line();
    await status.set("Generating 4 images…");
    await status.set("1/4 done");
    await status.set("2/4 done");
    expect(sent).toEqual(["Generating 4 images…"]);

    clock.advance(999);
    await settle();
    expect(sent).toEqual(["Generating 4 images…"]);
    clock.advance(1);
    await settle();
    expect(sent).toEqual(["Generating 4 images…", "2/4 done"]);

    clock.advance(5000);
    await status.set("3/4 done");
    expect(sent.at(-1)).toBe("3/4 done");
  });

  it("flush sends the pending summary at once and cancels the timer", async () => {
    const { clock, sent, status } = line(60_000);
    await status.set("Generating…");
    await status.set("1/2 done");
    await status.set("Done: 2 of 2 images delivered.");
    await status.flush();
    expect(sent).toEqual(["Generating…", "Done: 2 of 2 images delivered."]);
    expect(clock.pending).toBe(0);
    await status.flush();
    expect(sent).toHaveLength(2);
  });

  it("a failed edit is reported, and later texts still go out", async () => {
    const { clock, sent, errors, status } = line();
    await status.set("boom");
    expect(errors).toHaveLength(1);
    await status.set("after");
    clock.advance(1000);
    await settle();
    expect(sent).toEqual(["after"]);
  });
});
