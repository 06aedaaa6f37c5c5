import { describe, expect, it } from "vitest";
import { DecodeSlots, referenceDecodes } from "../../src/core/decode-slots.js";

describe("decode slots", () => {
  it("never runs more tasks at once than it has slots, and serves them in arrival order", async () => {
    const slots = new DecodeSlots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = [0, 1, 2, 3, 4].map((id) =>
      slots.run(async () => {
        started.push(id);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return id;
      }),
    );
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it("frees its slot when a task fails", async () => {
    const slots = new DecodeSlots(1);
    await expect(slots.run(async () => Promise.reject(new Error("bad image")))).rejects.toThrow("bad image");
    await expect(slots.run(async () => "next")).resolves.toBe("next");
  });

  it("reference decodes take turns process-wide", () => {
    expect(referenceDecodes.size).toBe(1);
  });
});
