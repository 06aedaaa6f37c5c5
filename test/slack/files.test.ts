import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { EventFile, SlackFileObject } from "../fakes/slack-files.js";
import { pngClaiming } from "../helpers/png-header.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

let h: SlackHarness;
let png: Buffer;

beforeAll(async () => {
  // Default configuration: a 20 MB file is over the default reference cap.
  h = await startSlackHarness();
  png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#3a7" } })
    .png()
    .toBuffer();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.seedream.reset());

/** Mentions the bot with `files` and resolves with the bot's text messages in the reply thread. */
async function mentionWith(channel: string, files: EventFile[]): Promise<string[]> {
  const message = h.sender.userMessage({ text: h.mentionBot("use this"), channel, files });
  await h.sender.deliver(message, "app_mention");
  const [reply] = await h.api.recorder.waitFor("message", 2, { channel, threadTs: message.ts }).then((all) =>
    // The first bot message in the thread is the status line; the second one is the answer.
    all.slice(1),
  );
  return [reply?.text ?? ""];
}

describe("reference files from Slack", () => {
  it("an HTML page instead of the file → a message naming the files:read scope", async () => {
    const file = h.api.addFile({ bytes: png, name: "photo.png", serve: "html" });
    const [text] = await mentionWith("C0HTMLFILE", [file]);
    expect(text).toMatch(/sign-in page instead of “photo\.png”.*files:read scope/);
    expect(h.seedream.requests).toEqual([]);
  });

  it("a token without files:read gets Slack's login page → the same clear message", async () => {
    h.api.setScopes(["app_mentions:read", "chat:write", "commands", "files:write"]);
    try {
      const file = h.api.addFile({ bytes: png, name: "scoped.png" });
      const [text] = await mentionWith("C0NOSCOPE1", [file]);
      expect(text).toMatch(/files:read/);
    } finally {
      h.api.setScopes([
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "chat:write",
        "commands",
        "files:read",
        "files:write",
      ]);
    }
    expect(h.seedream.requests).toEqual([]);
  });

  it("a 20 MB file → refused as over the cap, even when its declared size lies", async () => {
    const big = Buffer.concat([png, Buffer.alloc(20 * 1024 * 1024 - png.length)]);
    const honest = h.api.addFile({ bytes: big, name: "huge.png" });
    const [first] = await mentionWith("C0BIGFILE1", [honest]);
    expect(first).toMatch(/“huge\.png” is larger than 15 MB/);

    const liar = h.api.addFile({ bytes: big, name: "liar.png", size: 1000 });
    const [second] = await mentionWith("C0BIGFILE2", [liar]);
    expect(second).toMatch(/“liar\.png” is larger than 15 MB/);
    expect(h.seedream.requests).toEqual([]);
  });

  it("a decompression bomb → refused from its header, naming its dimensions and the limit", async () => {
    const file = h.api.addFile({ bytes: pngClaiming(30_000, 30_000), name: "bomb.png" });
    const [text] = await mentionWith("C0BOMBFILE", [file]);
    expect(text).toContain("“bomb.png” is 30000×30000 px; the limit is 6000×6000");
    expect(h.seedream.requests).toEqual([]);
  });

  it("a truncated PNG → “is damaged or incomplete”, and nothing is sent", async () => {
    const noisy = await sharp({
      create: {
        width: 200,
        height: 200,
        channels: 3,
        background: "#888",
        noise: { type: "gaussian", mean: 128, sigma: 40 },
      },
    })
      .png()
      .toBuffer();
    const file = h.api.addFile({ bytes: noisy.subarray(0, Math.floor(noisy.length / 2)), name: "cut.png" });
    const [text] = await mentionWith("C0CUTFILE1", [file]);
    expect(text).toContain("“cut.png” is damaged or incomplete");
    expect(h.seedream.requests).toEqual([]);
  });

  it("a PDF → a clear message; a file name is escaped when echoed", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
    const file = h.api.addFile({ bytes: pdf, name: "<!here> report.pdf" });
    const [text] = await mentionWith("C0PDFFILE1", [file]);
    expect(text).toMatch(/“&lt;!here&gt; report\.pdf” (isn't an image|is a pdf file)/);
    expect(text).not.toContain("<!here>");
    expect(h.seedream.requests).toEqual([]);
  });

  it("a redirect to another host is refused and the token goes nowhere else", async () => {
    const file = h.api.addFile({
      bytes: png,
      name: "moved.png",
      serve: { redirectTo: h.api.foreignUrl("x.png") },
    });
    const [text] = await mentionWith("C0REDIRECT", [file]);
    expect(text).toMatch(/redirected the download of “moved\.png” to another host/);
    expect(h.api.foreignHits).toEqual([]);
  });

  it("a file link outside Slack's hosts is never fetched with the token", async () => {
    const file = h.api.addFile({ bytes: png, name: "elsewhere.png" }) as SlackFileObject;
    const outside = { ...file, url_private_download: h.api.foreignUrl("elsewhere.png") };
    const [text] = await mentionWith("C0FOREIGN1", [outside]);
    expect(text).toMatch(/“elsewhere\.png” points outside Slack/);
    expect(h.api.foreignHits).toEqual([]);
  });

  it("logs never contain the bot token or the API key", () => {
    const all = h.log.lines.join("\n");
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(h.api.botToken);
    expect(all).not.toContain(h.runtime.config.seedream.apiKey ?? "-");
  });
});
