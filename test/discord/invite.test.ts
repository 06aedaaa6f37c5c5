import { describe, expect, it } from "vitest";
import {
  applicationIdFromToken,
  discordInviteCommand,
  discordInviteUrl,
} from "../../adapters/discord/index.js";
import { FakeDiscord } from "../fakes/discord.js";
import { bits } from "../fakes/discord-permissions.js";

/** Exactly what the bot uses: no Embed Links, no Mention Everyone, nothing administrative. */
const NEEDED = bits([
  "ViewChannel",
  "SendMessages",
  "SendMessagesInThreads",
  "AttachFiles",
  "ReadMessageHistory",
]);

function io(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env } };
}

describe("discord-invite", () => {
  it("builds the OAuth2 URL with the bot and applications.commands scopes and exactly the needed permissions", () => {
    const url = new URL(discordInviteUrl("123456789012345678"));
    expect(`${url.origin}${url.pathname}`).toBe("https://discord.com/oauth2/authorize");
    expect(url.searchParams.get("client_id")).toBe("123456789012345678");
    expect(url.searchParams.get("scope")).toBe("bot applications.commands");
    expect(BigInt(url.searchParams.get("permissions") ?? "0")).toBe(NEEDED);
  });

  it("reads the application id from DISCORD_TOKEN without asking Discord", async () => {
    const id = "987654321098765432";
    const token = `${Buffer.from(id).toString("base64").replace(/=+$/, "")}.GhIjKl.${"x".repeat(38)}`;
    expect(applicationIdFromToken(token)).toBe(id);
    const run = io({ DISCORD_TOKEN: token });
    expect(await discordInviteCommand([], run.io)).toBe(0);
    expect(new URL(run.out[0] ?? "").searchParams.get("client_id")).toBe(id);
    expect(run.err.join("\n")).not.toContain(token);
  });

  it("asks /applications/@me when the token does not carry the id", async () => {
    const fake = await FakeDiscord.start();
    try {
      const run = io({ DISCORD_TOKEN: fake.token, DISCORD_API_URL: fake.apiUrl });
      expect(await discordInviteCommand(["--guild-id", fake.guild.id], run.io)).toBe(0);
      const url = new URL(run.out[0] ?? "");
      expect(url.searchParams.get("client_id")).toBe(fake.applicationId);
      expect(url.searchParams.get("guild_id")).toBe(fake.guild.id);
      expect(fake.requests.all.map((r) => r.route)).toEqual(["GET /applications/@me"]);
    } finally {
      await fake.close();
    }
  });

  it("says what to set when there is neither a token nor an id, and rejects a malformed id", async () => {
    const none = io({});
    expect(await discordInviteCommand([], none.io)).toBe(1);
    expect(none.err[0]).toMatch(/^Set DISCORD_TOKEN, or pass --application-id/);
    const bad = io({});
    expect(await discordInviteCommand(["--application-id", "my-bot"], bad.io)).toBe(2);
    expect(bad.out).toEqual([]);
  });
});
