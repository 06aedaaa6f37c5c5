import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserMessage } from "../fakes/slack-events.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

/**
 * One user cannot fill the wait line (issue 9, item 1): with one slot and a line of 4, a user
 * with 3 requests waiting (MAX_QUEUED_PER_USER's default) is told so privately about a 4th, and
 * another user still gets the free place.
 */

let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness({ MAX_CONCURRENT_RUNS: "1", MAX_QUEUE_LENGTH: "4" });
});
afterAll(async () => {
  await h?.close();
});

const CHANNEL = "C0FAIRQ001";
const BOB = "U0BOB00001";

/** Delivers a mention from `user` and resolves with it once the bot posted its first status. */
async function mentionFrom(user: string, text: string): Promise<UserMessage> {
  const message = h.sender.userMessage({ text: h.mentionBot(text), channel: CHANNEL, user });
  await h.sender.deliver(message, "app_mention");
  return message;
}

const statusIn = async (message: UserMessage) => {
  const [status] = await h.api.recorder.waitFor("message", 1, { channel: CHANNEL, threadTs: message.ts });
  return status?.text;
};

describe("queue fairness", () => {
  it("refuses a user's 4th waiting request privately, and another user still gets a place", async () => {
    h.api.setUser(BOB, { name: "bob" });
    const alice = h.api.userId;
    h.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });

    // Alice's first request takes the only slot and is held at the fake's gate.
    await mentionFrom(alice, "a harbour at dawn");
    await h.seedream.reached(0);
    // Her next three wait, each told its place.
    const places: Array<string | undefined> = [];
    for (const text of ["a harbour at noon", "a harbour at dusk", "a harbour at night"]) {
      places.push(await statusIn(await mentionFrom(alice, text)));
    }
    expect(places).toEqual([
      "Waiting for a free slot: you are next in line.",
      "Waiting for a free slot: you are number 2 in line.",
      "Waiting for a free slot: you are number 3 in line.",
    ]);

    // Her fourth waiting request is refused, to her alone, and nothing is posted in its thread.
    const excess = await mentionFrom(alice, "a harbour in the rain");
    const [refusal] = await h.api.recorder.waitFor("ephemeral", 1, { channel: CHANNEL, threadTs: excess.ts });
    expect(refusal?.user).toBe(alice);
    expect(refusal?.text).toMatch(/^You already have 3 requests waiting/);

    // Bob still gets the last place in the line.
    const bobs = await mentionFrom(BOB, "a lighthouse");
    expect(await statusIn(bobs)).toBe("Waiting for a free slot: you are number 4 in line.");
    expect(h.api.thread(CHANNEL, excess.ts)).toEqual([]);
    expect(h.seedream.requests).toHaveLength(1);
  });
});
