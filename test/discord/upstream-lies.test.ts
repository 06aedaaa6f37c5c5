import { describe, expect, it } from "vitest";
import { type DiscordHarness, useDiscordHarness } from "./harness.js";

/** Issue 9, items 2 and 4 through the real Discord adapter: broken image data, a stream cut short. */

let h: DiscordHarness;

useDiscordHarness((started) => {
  h = started;
});

const summaryOf = (statusId: string) =>
  h.fake.edits.waitFor((e) => e.messageId === statusId && /^(Done|Failed|Cancelled)/.test(e.content));

describe("a lying upstream, seen in Discord", () => {
  it("an image that is base64 of an HTML page is an inline failure, never an upload", async () => {
    const html = Buffer.from("<html><body>Service Unavailable</body></html>");
    h.seedream.setScenario({ images: [{ kind: "ok", bytes: html }, { kind: "ok" }] });
    await h.fake.sendMessageCreate({ content: h.mentionBot("two ravens --n 2") });
    const status = await h.fake.nextMessage();
    const posts = [await h.fake.nextMessage(), await h.fake.nextMessage()];
    expect(posts.map((p) => [p.content, p.uploads.length])).toEqual([
      ["Image 1/2 came back corrupted, so it was not posted.", 0],
      ["2/2", 1],
    ]);
    expect((await summaryOf(status.messageId)).content).toMatch(/^Done: 1 of 2 images delivered, 1 failed/);
  });

  it("a stream closed after image 1 of 3 says images 2 and 3 were not generated", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok" }, { kind: "ok" }], cutAfter: 1 });
    await h.fake.sendMessageCreate({ content: h.mentionBot("three bridges --n 3") });
    const status = await h.fake.nextMessage();
    const posts = [await h.fake.nextMessage(), await h.fake.nextMessage()];
    expect(posts.map((p) => p.content)).toEqual([
      "1/3",
      "The connection to Seedream dropped after 1 of 3 images; images 2 and 3 were not generated.",
    ]);
    expect((await summaryOf(status.messageId)).content).toMatch(
      /^Done: 1 of 3 images delivered, 2 not generated/,
    );
  });
});
