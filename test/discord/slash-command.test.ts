import { beforeAll, describe, expect, it } from "vitest";
import {
  type DiscordHarness,
  NOBODY,
  referenceBytes,
  sha256,
  solidPng,
  uploadOf,
  useDiscordHarness,
} from "./harness.js";

let h: DiscordHarness;
let green: Buffer;

useDiscordHarness((started) => {
  h = started;
});
beforeAll(async () => {
  green = await solidPng("#20a040");
});

const editsOf = (interactionId: string) =>
  h.fake.edits.all.filter((e) => e.via === "interaction" && e.interactionId === interactionId);

const summaryOf = (interactionId: string) =>
  h.fake.edits.waitFor((e) => e.interactionId === interactionId && /\n(Done|Failed)/.test(e.content));

describe("/imagine", () => {
  it("is registered at start in DISCORD_GUILD_ID with its options", async () => {
    const registration = await h.fake.commands.registrations.waitFor();
    expect(registration.scope).toBe(h.fake.guild.id);
    expect(h.discord.commandScope).toBe(h.fake.guild.id);
    const [command] = registration.commands;
    expect(command?.name).toBe("imagine");
    expect(command?.options?.map((o) => [o.name, o.type])).toEqual([
      ["prompt", 3],
      ["image1", 11],
      ["image2", 11],
      ["image3", 11],
      ["n", 4],
      ["size", 3],
      ["model", 3],
    ]);
  });

  it("is deferred before generating, then posts each image as a follow-up and the summary in the response", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok", gate: true }, { kind: "ok" }] });
    const ref = h.fake.hostAttachment({ name: "ref.png", contentType: "image/png", bytes: green });
    const state = await h.fake.sendInteractionCreate({
      name: "imagine",
      options: { prompt: "a lighthouse", image1: ref, n: 2, size: "2K" },
    });
    await h.seedream.reached(0);
    // The API is still working on image 1, and Discord already has its acknowledgement.
    const callbacks = h.fake.interactions.callbacks.all.filter((c) => c.interactionId === state.id);
    expect(callbacks.map((c) => [c.type, c.late])).toEqual([[5, false]]);
    const request = await h.seedream.request(0);
    expect(request.body).toMatchObject({ prompt: "a lighthouse", size: "2K" });
    expect(referenceBytes(request.body).map(sha256)).toEqual([sha256(green)]);
    h.seedream.release(0);

    const first = await h.fake.nextMessage();
    const second = await h.fake.nextMessage();
    for (const [i, message] of [first, second].entries()) {
      expect(message).toMatchObject({ via: "interaction", interactionId: state.id, content: `${i + 1}/2` });
      expect(sha256(uploadOf(message))).toBe(sha256(await h.seedream.imageBytes(i)));
      expect(message.uploads[0]?.description).toBe("a lighthouse");
    }
    const summary = await summaryOf(state.id);
    expect(summary.messageId).toBe(state.originalMessageId);
    expect(summary.content).toMatch(/^> a lighthouse --n 2 --size 2K\nDone: 2 of 2 images delivered/);
    expect(editsOf(state.id)[0]?.content).toMatch(/\n(Preparing 1 reference image|Generating 2 images)/);
    // Public: the response is not ephemeral.
    expect(summary.flags & 64).toBe(0);
  });

  it("echoes a prompt containing @everyone without pinging anyone", async () => {
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const prompt = "a poster that says @everyone come to the party";
    const state = await h.fake.sendInteractionCreate({ name: "imagine", options: { prompt } });
    const image = await h.fake.nextMessage();
    const summary = await summaryOf(state.id);
    expect(summary.content).toContain("@everyone");
    expect(image.uploads[0]?.description).toBe(prompt);
    for (const message of [...editsOf(state.id), image]) {
      expect(message.allowedMentions?.parse).toEqual([]);
      expect(message.pings).toEqual(NOBODY);
    }
  });

  it("answers help privately, in the deferred response itself, without generating", async () => {
    const state = await h.fake.sendInteractionCreate({ name: "imagine", options: { prompt: "help" } });
    const answer = await h.fake.edits.waitFor((e) => e.interactionId === state.id);
    expect(answer.content).toMatch(/^Describe the image you want/);
    expect(answer.flags & 64).toBe(64);
    const callback = await h.fake.interactions.callbacks.waitFor((c) => c.interactionId === state.id);
    expect(callback.type).toBe(5);
    await h.discord.idle();
    expect(h.seedream.requests).toEqual([]);
    expect(h.fake.messages.all.filter((m) => m.interactionId === state.id)).toEqual([]);
  });

  it("answers a mistake only the model reveals (--seed on 4.5) privately, never in public", async () => {
    const state = await h.fake.sendInteractionCreate({
      name: "imagine",
      options: { prompt: "a cat --seed 5" },
    });
    const answer = await h.fake.edits.waitFor((e) => e.interactionId === state.id);
    expect(answer.content).toBe("Seedream 4.5 does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.");
    expect(answer.flags & 64).toBe(64);
    await h.discord.idle();
    expect(h.seedream.requests).toEqual([]);
    expect(h.fake.messages.all.filter((m) => m.interactionId === state.id)).toEqual([]);
  });

  it("tells the user about a bad option value privately", async () => {
    const state = await h.fake.sendInteractionCreate({
      name: "imagine",
      options: { prompt: "a cat", size: "huge" },
    });
    const answer = await h.fake.edits.waitFor((e) => e.interactionId === state.id);
    expect(answer.content).toMatch(/size/i);
    expect(answer.content).toContain("Usage:");
    expect(answer.flags & 64).toBe(64);
    await h.discord.idle();
    expect(h.seedream.requests).toEqual([]);
  });
});
