import { describe, expect, it } from "vitest";
import type { FakeScenario, FakeSeedream } from "../fakes/seedream-server.js";
import { bytesAttachment, inspectDataUri, solidImage } from "./attachments.js";
import { createHarness, type Harness, incoming, SECRET, threadWithRefetch, useHarness } from "./harness.js";
import { RecordingThread } from "./recording-thread.js";

/** The handler end to end: real client, fake Seedream, memory store, recording threads. */

let fake: FakeSeedream;
let harness: Harness;

useHarness((started, wired) => {
  fake = started;
  harness = wired;
});

describe("commands", () => {
  it("answers help privately where the platform can, in the thread otherwise", async () => {
    const slackish = new RecordingThread({ ephemeral: true });
    expect((await harness.handler.submit(incoming("help"), slackish)).outcome).toBe("help");
    expect(slackish.ephemerals[0]).toContain("Usage: <prompt> [--n 1-15]");
    expect(slackish.texts).toEqual([]);

    const plain = new RecordingThread();
    await harness.handler.submit(incoming("  help "), plain);
    expect(plain.texts[0]).toContain("Usage: <prompt>");
    expect(fake.requests).toHaveLength(0);
  });

  it("answers a bad flag with the reason and the usage, without calling the API", async () => {
    const thread = new RecordingThread();
    const result = await harness.handler.submit(incoming("a cat --n 20"), thread);
    expect(result.outcome).toBe("rejected");
    expect(thread.texts).toHaveLength(1);
    expect(thread.texts[0]?.split("\n")).toEqual([
      '--n must be a whole number from 1 to 15 (got "20").',
      expect.stringMatching(/^Usage: /),
    ]);
    expect(fake.requests).toHaveLength(0);
  });

  it("reports what the model cannot do before calling the API", async () => {
    const thread = new RecordingThread();
    await harness.handler.submit(incoming("a cat --seed 7"), thread);
    expect(thread.texts).toEqual([
      "Seedream 4.5 does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.",
    ]);
    expect(fake.requests).toHaveLength(0);
  });

  it("sends --model aliases as the provider's model id", async () => {
    const thread = new RecordingThread();
    await harness.handler.submit(incoming("a cat --model 4.0 --fast"), thread);
    expect(fake.requests[0]?.body).toMatchObject({
      model: "doubao-seedream-4-0-250828",
      optimize_prompt_options: { mode: "fast" },
    });
    expect(thread.statuses[0]).toBe("Generating an image with Seedream 4.0…");
  });
});

describe("request-level failures: one clear message, never the key", () => {
  const cases: Array<{ name: string; scenario: FakeScenario; sentence: string }> = [
    {
      name: "prompt blocked",
      scenario: { error: { status: 400, code: "InputTextSensitiveContentDetected" } },
      sentence: "Seedream's content filter blocked the prompt; try rewording it",
    },
    {
      name: "bad key (the API echoes it)",
      scenario: {
        error: { status: 401, code: "AuthenticationError", message: `The API key ${SECRET} is invalid.` },
      },
      sentence: "Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY",
    },
    {
      name: "account overdue",
      scenario: { error: { status: 403, code: "AccountOverdueError" } },
      sentence:
        "The bot's Seedream account is out of credit; an admin must top it up in the provider's console",
    },
    {
      name: "model unavailable",
      scenario: { error: { status: 404, code: "InvalidEndpointOrModel.NotFound" } },
      sentence:
        "The model doubao-seedream-4-5-251128 is not enabled on the bot's Seedream account: an admin can enable it in the provider's console or set SEEDREAM_MODEL to one that is; meanwhile try --model with another version (3.0, 4.0, 4.5, 5.0, 5.0-lite, 5.0-pro)",
    },
    {
      name: "rate limited after every retry",
      scenario: { error: { status: 429, code: "RateLimitExceeded.EndpointIPM" } },
      sentence: "Seedream is busy right now (rate limit reached); please try again in a minute",
    },
    {
      name: "server error after every retry",
      scenario: { error: { status: 500, code: "InternalServiceError" } },
      sentence: "Seedream had an internal error; please try again",
    },
    {
      name: "invalid parameter",
      scenario: { error: { status: 400, code: "InvalidParameter", param: "size" } },
      sentence: "Seedream rejected the request: its size value isn't accepted",
    },
  ];

  for (const { name, scenario, sentence } of cases) {
    it(name, async () => {
      fake.setScenario(scenario);
      const thread = new RecordingThread();
      const result = await harness.handler.submit(incoming("a lighthouse at night"), thread);

      expect(result.outcome).toBe("failed");
      const requestId = fake.requests.at(-1)?.requestId;
      expect(thread.texts).toEqual([`${sentence} (request id ${requestId}).`]);
      expect(thread.images).toEqual([]);
      expect(thread.lastStatus).toBe("Failed: no image delivered (0 s).");
      const everything = JSON.stringify(thread.events);
      expect(everything).not.toContain(SECRET);
      expect(everything).not.toContain("may contain sensitive information");
    });
  }

  it("a reference blocked by moderation", async () => {
    fake.setScenario({ error: { status: 400, code: "InputImageSensitiveContentDetected" } });
    const thread = new RecordingThread();
    const photo = bytesAttachment("photo.png", await solidImage(64, 64, "png"));
    await harness.handler.submit(incoming("make it night", { attachments: [photo] }), thread);
    expect(thread.texts).toEqual([
      `Seedream's content filter blocked a reference image; try a different image (request id ${fake.requests[0]?.requestId}).`,
    ]);
  });

  it("a stream that goes silent times out with one message", async () => {
    const silent = await createHarness(fake, {}, { idleTimeoutMs: 100 });
    try {
      fake.setScenario({ earlyHeaders: true, hangAfter: 0 });
      const thread = new RecordingThread();
      const result = await silent.handler.submit(incoming("a slow painting"), thread);
      expect(result.outcome).toBe("failed");
      expect(thread.texts).toHaveLength(1);
      expect(thread.texts[0]).toMatch(
        /^Seedream took too long to answer; please try again, perhaps with fewer images[ .]/,
      );
      expect(JSON.stringify(thread.events)).not.toContain(SECRET);
    } finally {
      await silent.close();
    }
  });
});

describe("references", () => {
  it("sends the message's images as data: URIs in order, normalised", async () => {
    const thread = new RecordingThread();
    const png = bytesAttachment("first.png", await solidImage(320, 200, "png"));
    const webp = bytesAttachment("second.webp", await solidImage(200, 320, "webp"));
    await harness.handler.submit(incoming("blend image 1 and image 2", { attachments: [png, webp] }), thread);

    const images = fake.requests[0]?.body?.image as string[];
    expect(images).toHaveLength(2);
    expect(await inspectDataUri(images[0] ?? "")).toMatchObject({ declared: "png", width: 320, height: 200 });
    expect(await inspectDataUri(images[1] ?? "")).toMatchObject({
      declared: "jpeg",
      format: "jpeg",
      width: 200,
      height: 320,
    });
    expect(thread.statuses[0]).toBe("Preparing 2 reference images…");
    expect(thread.images).toHaveLength(1);
  });

  it("refuses references + images over 15 before downloading anything or calling the API", async () => {
    const bytes = await solidImage(64, 64, "png");
    const attachments = Array.from({ length: 12 }, (_, i) => bytesAttachment(`ref-${i + 1}.png`, bytes));
    const thread = new RecordingThread();
    await harness.handler.submit(incoming("a collage --n 4", { attachments }), thread);

    expect(thread.texts).toEqual([
      "12 reference images plus 4 new images is more than the 15 a request may have: use --n 3 or attach fewer images.",
    ]);
    expect(attachments.every((attachment) => attachment.fetches === 0)).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a file that is not an image with one message and no API call", async () => {
    const thread = new RecordingThread();
    const html = bytesAttachment(
      "photo.png",
      Buffer.from("<!doctype html><html><body>Sign in</body></html>"),
    );
    await harness.handler.submit(incoming("make it blue", { attachments: [html] }), thread);
    expect(thread.texts).toEqual([
      "“photo.png” isn't an image: it is a web page (the file link may need a login).",
    ]);
    expect(thread.lastStatus).toBe("Stopped before generating (see the message below).");
    expect(fake.requests).toHaveLength(0);
  });

  it("records posted images so a follow-up in the thread edits image #N of the latest group", async () => {
    fake.setScenario({
      images: [
        { kind: "ok", index: 1 },
        { kind: "ok", index: 0 },
      ],
    });
    const { thread, resolveStoredImage } = threadWithRefetch();
    const request = incoming("two lanterns --n 2", { conversationId: "thread-edit", resolveStoredImage });
    const first = await harness.handler.submit(request, thread);

    const [posted] = thread.images;
    const record = await harness.store.findImage("test", posted?.messageId ?? "");
    expect(record).toMatchObject({
      runId: first.runId,
      index: 1,
      prompt: "two lanterns",
      ref: `file-${posted?.messageId}`,
    });

    fake.reset();
    const extra = bytesAttachment("moon.png", await solidImage(100, 100, "png"));
    await harness.handler.submit(
      { ...request, text: "#2 add a moon", continuesThread: true, attachments: [extra] },
      thread,
    );
    const images = fake.requests[0]?.body?.image as string[];
    expect(fake.requests[0]?.body?.prompt).toBe("add a moon");
    expect(images).toHaveLength(2);
    // Image #2 is the one labelled 2/2 (image_index 1), though it was posted first.
    expect(
      Buffer.from((images[0] ?? "").split(",")[1] ?? "", "base64").equals(await fake.imageBytes(1)),
    ).toBe(true);
    expect(await inspectDataUri(images[1] ?? "")).toMatchObject({ width: 100, height: 100 });
  });
});

describe("limits", () => {
  it("tells a waiting request its place in line, then runs it", async () => {
    const busy = await createHarness(fake, { MAX_CONCURRENT_RUNS: "1" });
    try {
      fake.setScenario({ images: [{ kind: "ok", gate: true }] });
      const firstThread = new RecordingThread();
      const first = busy.handler.submit(incoming("first"), firstThread);
      await fake.reached(0);

      const secondThread = new RecordingThread();
      const second = busy.handler.submit(incoming("second"), secondThread);
      await secondThread.waitFor((event) => event.kind === "status");
      expect(secondThread.statuses).toEqual(["Waiting for a free slot: you are next in line."]);
      expect(fake.requests).toHaveLength(1);

      fake.releaseAll();
      expect((await first).outcome).toBe("completed");
      expect((await second).outcome).toBe("completed");
      expect(secondThread.statuses[1]).toBe("Generating an image with Seedream 4.5…");
      expect(fake.requests).toHaveLength(2);
    } finally {
      await busy.close();
    }
  });

  it("a user's waiting request can be cancelled", async () => {
    const busy = await createHarness(fake, { MAX_CONCURRENT_RUNS: "1" });
    try {
      fake.setScenario({ images: [{ kind: "ok", gate: true }] });
      const blocker = busy.handler.submit(incoming("first"), new RecordingThread());
      await fake.reached(0);

      const waiter = incoming("second");
      const waitingThread = new RecordingThread();
      const waiting = busy.handler.submit(waiter, waitingThread);
      await waitingThread.waitFor((event) => event.kind === "status");
      expect(await busy.handler.cancel(waiter.platform, waiter.user.id)).toBe(1);
      expect((await waiting).outcome).toBe("cancelled");
      expect(waitingThread.lastStatus).toBe("Cancelled.");

      fake.releaseAll();
      await blocker;
      expect(fake.requests).toHaveLength(1);
    } finally {
      await busy.close();
    }
  });
});
