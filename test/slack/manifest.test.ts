import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { slackManifest, slackManifestCommand } from "../../adapters/slack/index.js";
import { projectRoot } from "../helpers/child-process.js";

function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = slackManifestCommand(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env });
  return code.then((exit) => ({ exit, out: out.join("\n"), err: err.join("\n") }));
}

describe("Slack app manifest", () => {
  it("slack/manifest.yml is exactly the generator's output for the placeholder URL", () => {
    const file = readFileSync(`${projectRoot}slack/manifest.yml`, "utf8");
    expect(file).toBe(slackManifest());
  });

  it("has the command, events, scopes and interactivity the bot needs", () => {
    const manifest = slackManifest({ url: "https://bot.example.com", command: "/seedream" });
    for (const scope of [
      "app_mentions:read",
      "channels:history",
      "groups:history",
      "chat:write",
      "commands",
      "files:read",
      "files:write",
    ]) {
      expect(manifest).toContain(`      - ${scope}\n`);
    }
    for (const event of ["app_mention", "message.channels", "message.groups"])
      expect(manifest).toContain(`      - ${event}\n`);
    expect(manifest).toContain(
      '    - command: "/seedream"\n      url: "https://bot.example.com/slack/events"',
    );
    expect(manifest).toMatch(
      /interactivity:\n {4}is_enabled: true\n {4}request_url: "https:\/\/bot\.example\.com\/slack\/events"/,
    );
  });

  it("`slack-manifest --url` prints it for that URL and SLACK_COMMAND", async () => {
    const result = await run(["--url", "https://bot.example.com/"], { SLACK_COMMAND: "/paint" });
    expect(result.exit).toBe(0);
    expect(result.out).toContain('- command: "/paint"');
    expect(result.out.match(/https:\/\/bot\.example\.com\/slack\/events/g)).toHaveLength(3);
    expect(result.out).toContain("socket_mode_enabled: false");
  });

  it("`--socket-mode` needs no URL", async () => {
    const result = await run(["--socket-mode"]);
    expect(result.exit).toBe(0);
    expect(result.out).toContain("socket_mode_enabled: true");
    expect(result.out).not.toContain("request_url");
  });

  it.each([
    [[], /--url is required/],
    [["--url", "http://bot.example.com"], /https:\/\//],
    [["--url", "not a url"], /is not a URL/],
    [["--url", "https://x.example", "--command", "seedream"], /--command must look like/],
    [["--bogus"], /Unknown option/],
  ])("%j → exit 2 with the reason and usage", async (argv, reason) => {
    const result = await run(argv);
    expect(result.exit).toBe(2);
    expect(result.err).toMatch(reason);
    expect(result.err).toContain("Usage: seedream-bot slack-manifest");
    expect(result.out).toBe("");
  });
});
