import { describe, expect, it } from "vitest";
import { SlackStartError, startSlack } from "../../adapters/slack/index.js";
import { silentLogger } from "../../src/logger.js";
import { FakeSlackApi } from "../fakes/slack-api.js";
import { startSlackHarness } from "./harness.js";

describe("Slack adapter lifecycle", () => {
  it("stop() cancels a run in progress, tells its thread, and closes the port", async () => {
    const h = await startSlackHarness();
    try {
      const channel = "C0STOPPING";
      h.seedream.setScenario({ images: [{ kind: "ok" }, { kind: "ok", gate: true }] });
      await h.sender.slashCommand({ text: "two boats --n 2", channelId: channel });
      const [parent] = await h.api.recorder.waitFor(
        "message",
        1,
        (m) => m.channel === channel && !m.threadTs,
      );
      await h.api.recorder.waitFor("upload", 1, { channel });
      await h.seedream.reached(1);
      expect(h.slack.healthy()).toBe(true);

      await h.slack.stop();
      expect(h.slack.healthy()).toBe(false);
      expect(await h.seedream.closed(0)).toBe("aborted");
      expect(h.api.message(channel, parent?.ts ?? "")?.text).toMatch(/\nCancelled/);
      await expect(fetch(`${h.appUrl}/healthz`)).rejects.toThrow();
    } finally {
      await h.close();
    }
  });

  it("a PORT already in use stops start-up with a sentence naming PORT", async () => {
    const h = await startSlackHarness();
    try {
      const error = await startSlack({
        slack: { ...(h.config.slack as NonNullable<typeof h.config.slack>) },
        port: h.slack.port,
        host: "127.0.0.1",
        handler: h.runtime.handler,
        store: h.runtime.store,
        logger: silentLogger,
        routes: [],
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SlackStartError);
      expect((error as Error).message).toBe(
        `Cannot listen on PORT=${h.slack.port} (EADDRINUSE): pick a free port.`,
      );
    } finally {
      await h.close();
    }
  });

  it("a bot token Slack refuses stops start-up with a sentence naming SLACK_BOT_TOKEN", async () => {
    const api = await FakeSlackApi.start();
    try {
      const attempt = startSlack({
        slack: {
          botToken: "xoxb-not-the-right-token",
          signingSecret: "secret",
          appToken: undefined,
          apiUrl: api.apiUrl,
          command: "/seedream",
        },
        port: 0,
        host: "127.0.0.1",
        handler: undefined as never,
        store: undefined as never,
        logger: silentLogger,
        routes: [],
        slackRetries: 0,
      });
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SlackStartError);
      expect((error as Error).message).toMatch(/Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/);
      expect((error as Error).message).not.toContain("xoxb-not-the-right-token");
    } finally {
      await api.close();
    }
  });
});
