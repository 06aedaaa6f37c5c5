import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCommand } from "../../src/core/grammar.js";
import type { PlatformRestorer, ThreadAddress } from "../../src/core/ports.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { createHarness, type Harness, incoming, threadWithRefetch } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/** Cost control in the core: team quotas, follow-up buttons under the same quota, the grammar. */

let fake: FakeSeedream;
let harness: Harness;
beforeAll(async () => {
  fake = await startFakeSeedream();
  harness = await createHarness(fake, { QUOTA_USER_DAILY_IMAGES: "3", QUOTA_TEAM_DAILY_IMAGES: "4" });
});
afterAll(async () => {
  await harness?.close();
  await fake?.close();
});

describe("quotas in the core", () => {
  it("refuses an Again press past the quota before any Seedream call, like a typed request", async () => {
    fake.reset();
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const { thread, resolveStoredImage } = threadWithRefetch();
    const first = incoming("a red fox --n 2");
    const result = await harness.handler.submit(first, thread);
    expect(result.outcome).toBe("completed");
    const press = incoming("", {
      user: first.user,
      followUp: { verb: "again", image: { runId: result.runId as string, index: 0 } },
      resolveStoredImage,
    });
    const again = new RecordingThread({ ephemeral: true });
    expect((await harness.handler.submit(press, again)).outcome).toBe("rejected");
    expect(again.ephemerals).toEqual([
      "You have 1 image left today (limit 3); it resets at 00:00 UTC. Try --n 1.",
    ]);
    expect(fake.requests).toHaveLength(1);
  });

  it("names the team's limit when the team's quota is what runs out", async () => {
    fake.reset();
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }] });
    const a = incoming("three bees --n 3", { teamId: "T-BEES" });
    expect((await harness.handler.submit(a, new RecordingThread())).outcome).toBe("completed");
    const b = incoming("two bees --n 2", { teamId: "T-BEES" });
    const thread = new RecordingThread({ ephemeral: true });
    expect((await harness.handler.submit(b, thread)).outcome).toBe("rejected");
    expect(thread.ephemerals).toEqual([
      "Your team has 1 image left today (limit 4); it resets at 00:00 UTC. Try --n 1.",
    ]);
    // Another team is not affected.
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }] });
    const c = incoming("two wasps --n 2", { teamId: "T-WASPS" });
    expect((await harness.handler.submit(c, new RecordingThread())).outcome).toBe("completed");
  });

  it("gives the whole reservation back when a request is cancelled while it waits", async () => {
    fake.reset();
    fake.setScenario({ images: [{ kind: "ok", gate: true }] });
    const user = incoming("").user;
    const running = harness.handler.submit(incoming("one owl", { user }), new RecordingThread());
    await fake.reached(0);
    // The user's second request waits for their one slot (MAX_CONCURRENT_RUNS_PER_USER=1)…
    const waiting = harness.handler.submit(incoming("two owls --n 2", { user }), new RecordingThread());
    await new Promise((resolve) => setTimeout(resolve, 50));
    await harness.handler.cancel("test", user.id);
    await Promise.allSettled([running, waiting]);
    // …and neither holds images any more: 3 can be asked for again.
    fake.reset();
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }] });
    const after = new RecordingThread({ ephemeral: true });
    expect((await harness.handler.submit(incoming("three owls --n 3", { user }), after)).outcome).toBe(
      "completed",
    );
  });
});

describe("usage and settings grammar", () => {
  const options = { defaults: { size: undefined, watermark: false, maxImages: 15 } };

  it("reads usage and the settings forms", () => {
    expect(parseCommand("usage", options)).toEqual({ kind: "usage" });
    expect(parseCommand(" 用量 ", options)).toEqual({ kind: "usage" });
    expect(parseCommand("settings", options)).toEqual({ kind: "settings", action: "show" });
    expect(parseCommand("Settings RESET", options)).toEqual({ kind: "settings", action: "reset" });
    expect(parseCommand("settings --model 4.0 --size 2K --n 2 --no-watermark", options)).toEqual({
      kind: "settings",
      action: "set",
      settings: { model: "4.0", size: "2K", n: 2, watermark: false },
    });
    expect(parseCommand("设置 --ar 16:9", options)).toEqual({
      kind: "settings",
      action: "set",
      settings: { ar: { width: 16, height: 9 } },
    });
  });

  it("keeps prompts that only start with the word", () => {
    expect(parseCommand("settings of a medieval castle", options)).toMatchObject({
      kind: "generate",
      params: { prompt: "settings of a medieval castle" },
    });
    expect(parseCommand("usage statistics as a poster", options).kind).toBe("generate");
  });

  it("refuses prose among settings flags and flags that can't be defaults", () => {
    expect(() => parseCommand("settings --n 2 a castle", options)).toThrow(/settings takes only flags/);
    expect(() => parseCommand("settings --seed 7", options)).toThrow(/--seed can't be saved as a default/);
  });

  it("applies saved settings under typed flags and over the configured defaults", () => {
    const user = { model: "4.0", size: "1K", n: 3, watermark: true };
    expect(parseCommand("a kite", { ...options, user })).toMatchObject({
      params: { model: "4.0", size: "1K", n: 3, watermark: true },
    });
    expect(parseCommand("a kite --n 1 --no-watermark --ar 16:9", { ...options, user })).toMatchObject({
      params: { model: "4.0", n: 1, watermark: false, ar: { width: 16, height: 9 } },
    });
    const clamped = parseCommand("a kite", { defaults: { ...options.defaults, maxImages: 2 }, user });
    expect(clamped).toMatchObject({ params: { n: 2 } });
  });
});

describe("quota counting across a restart", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "seedream-quota-restart-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("counts what an interrupted run delivered, and what its continuation delivers after the restart", async () => {
    const env = { STORE_URL: `sqlite://${join(dir, "bot.sqlite")}`, QUOTA_USER_DAILY_IMAGES: "3" };
    const address: ThreadAddress = { platform: "test", channel: "C1", thread: "t1" };
    const restorer = (thread: RecordingThread): PlatformRestorer => ({
      platform: "test",
      thread: () => thread,
      attachment: () => {
        throw new Error("no attachments here");
      },
      storedImage: () => {
        throw new Error("no stored images here");
      },
    });
    fake.reset();
    const before = await createHarness(fake, env);
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const request = incoming("three owls --n 3");
    const thread = new RecordingThread({ address });
    const running = before.handler.submit(request, thread);
    await thread.waitFor((event) => event.kind === "image");
    await fake.reached(1);
    await before.handler.drain(50);
    expect((await running).outcome).toBe("interrupted");
    await before.close();

    fake.setScenario({});
    const after = await createHarness(fake, env);
    try {
      await after.handler.recover([restorer(new RecordingThread({ address }))]);
      await after.handler.idle();
      // 1 image before the restart + 2 after = the whole quota: nothing counted twice or lost.
      const usage = new RecordingThread({ ephemeral: true });
      await after.handler.submit({ ...incoming("usage"), user: request.user }, usage);
      expect(usage.ephemerals[0]).toMatch(/^Today: 3 of 3 images/);
      const more = new RecordingThread({ ephemeral: true });
      expect(
        (await after.handler.submit({ ...incoming("one more owl"), user: request.user }, more)).outcome,
      ).toBe("rejected");
    } finally {
      await after.close();
    }
  });
});
