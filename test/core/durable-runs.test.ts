import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pausedStatus, RESTARTING_QUEUED_STATUS } from "../../src/core/messages.js";
import type { PlatformRestorer, ThreadAddress } from "../../src/core/ports.js";
import { type FakeSeedream, startFakeSeedream } from "../fakes/seedream-server.js";
import { createHarness, incoming } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/**
 * The durable lifecycle in one process (the child-process tests in test/durable/ cover real
 * signals and restarts): a drain records new requests for the next process and interrupts runs
 * past the grace; cancel finds runs through the store, across a restart.
 */

let fake: FakeSeedream;
let dir: string;
let storeUrl: string;
beforeAll(async () => {
  fake = await startFakeSeedream();
  dir = await mkdtemp(join(tmpdir(), "seedream-durable-core-"));
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.reset();
  storeUrl = `sqlite://${join(dir, `${Math.random().toString(36).slice(2)}.sqlite`)}`;
});

const address: ThreadAddress = { platform: "test", channel: "C1", thread: "t1" };
/** Rebuilds every thread as `thread` (recording what the restarted bot says there). */
const restorer = (thread: RecordingThread, rebuilt: ThreadAddress[] = []): PlatformRestorer => ({
  platform: "test",
  thread: (at) => {
    rebuilt.push(at);
    return thread;
  },
  attachment: () => {
    throw new Error("no attachments in these tests");
  },
  storedImage: () => {
    throw new Error("no stored images in these tests");
  },
});

describe("a drain for a restart", () => {
  it("records a request arriving now as waiting and says so; cancel after the restart finds it", async () => {
    const before = await createHarness(fake, { STORE_URL: storeUrl });
    await before.handler.drain(30_000);
    const request = incoming("a late heron");
    const thread = new RecordingThread({ address });
    const result = await before.handler.submit(request, thread);
    expect(result.outcome).toBe("queued");
    expect(thread.statuses).toEqual([RESTARTING_QUEUED_STATUS]);
    expect((await before.store.getRun(result.runId ?? ""))?.state).toBe("waiting");
    await before.close();

    const after = await createHarness(fake, { STORE_URL: storeUrl });
    try {
      expect(await after.handler.cancel(request.platform, request.user.id)).toBe(1);
      expect((await after.store.getRun(result.runId ?? ""))?.state).toBe("cancelled");
      const rebuilt: ThreadAddress[] = [];
      const summary = await after.handler.recover([restorer(new RecordingThread(), rebuilt)]);
      expect(summary).toMatchObject({ waiting: 0, continued: 0 });
      expect(rebuilt).toEqual([]);
      expect(fake.requests).toEqual([]);
    } finally {
      await after.close();
    }
  });

  it("refuses a request it could not resume (no thread address), instead of promising it", async () => {
    const harness = await createHarness(fake, { STORE_URL: storeUrl });
    try {
      await harness.handler.drain(30_000);
      const thread = new RecordingThread();
      const result = await harness.handler.submit(incoming("a console fox"), thread);
      expect(result.outcome).toBe("rejected");
      expect(thread.texts).toEqual(["The bot is restarting."]);
      expect(await harness.store.unfinishedRuns()).toEqual([]);
    } finally {
      await harness.close();
    }
  });

  it("interrupts a run still going at the end of the grace, keeps what it delivered, and resumes it", async () => {
    const harness = await createHarness(fake, { STORE_URL: storeUrl });
    fake.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }, { kind: "ok" }] });
    const thread = new RecordingThread({ address });
    const running = harness.handler.submit(incoming("three owls --n 3"), thread);
    await thread.waitFor((event) => event.kind === "image");
    await fake.reached(1);
    await harness.handler.drain(50);
    const result = await running;
    expect(result.outcome).toBe("interrupted");
    expect(thread.lastStatus).toBe(pausedStatus(1, 3));
    const record = await harness.store.getRun(result.runId ?? "");
    expect(record).toMatchObject({ state: "interrupted", attempts: 1 });
    expect(record?.images.map((image) => image.index)).toEqual([0]);
    expect(record?.finishedAt).toBeUndefined();
    await harness.close();

    fake.setScenario({});
    const after = await createHarness(fake, { STORE_URL: storeUrl });
    try {
      const resumed = new RecordingThread({ address });
      const rebuilt: ThreadAddress[] = [];
      expect(await after.handler.recover([restorer(resumed, rebuilt)])).toMatchObject({ continued: 1 });
      await after.handler.idle();
      expect(rebuilt[0]).toEqual(address);
      expect(resumed.texts[0]).toBe(
        "The bot restarted while making your images: 1 of 3 were delivered. Making the other 2 now.",
      );
      expect(resumed.images.map((image) => image.caption)).toEqual(["2/3", "3/3"]);
      expect(resumed.lastStatus).toMatch(/^Done: 3 of 3 images delivered .*\(resumed after a restart\)$/);
      expect(await after.store.getRun(result.runId ?? "")).toMatchObject({ state: "done", attempts: 2 });
    } finally {
      await after.close();
    }
  });
});

describe("cancel through the store", () => {
  it("stops a run going on in another process at its next image", async () => {
    const [owner, other] = await Promise.all([
      createHarness(fake, { STORE_URL: storeUrl }),
      createHarness(fake, { STORE_URL: storeUrl }),
    ]);
    try {
      fake.setScenario({ images: [{ kind: "ok", gate: true }, { kind: "ok" }, { kind: "ok" }] });
      const request = incoming("three gulls --n 3");
      const thread = new RecordingThread({ address });
      const running = owner.handler.submit(request, thread);
      await fake.reached(0);
      expect(await other.handler.cancel(request.platform, request.user.id)).toBe(1);
      fake.release(0);
      const result = await running;
      expect(result.outcome).toBe("cancelled");
      expect(thread.images.map((image) => image.caption)).toEqual(["1/3"]);
      expect(thread.lastStatus).toMatch(/^Cancelled: 1 of 3 images delivered/);
      expect((await owner.store.getRun(result.runId ?? ""))?.state).toBe("cancelled");
    } finally {
      await Promise.all([owner.close(), other.close()]);
    }
  });
});
