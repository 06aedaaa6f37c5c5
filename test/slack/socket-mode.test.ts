import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../fakes/jpeg.js";
import { FakeSocketMode } from "../fakes/slack-socket-mode.js";
import { dataUriBytes } from "../helpers/data-uri.js";
import { type SlackHarness, startSlackHarness } from "./harness.js";

let h: SlackHarness;
let socket: FakeSocketMode;

beforeAll(async () => {
  socket = await FakeSocketMode.start("xapp-1-A0APP00001-fake-app-token");
  // The fake Web API has no apps.connections.open: that one call is routed to the Socket Mode fake.
  const routed: typeof fetch = (input, init) =>
    String(input).endsWith("/apps.connections.open")
      ? fetch(socket.connectionsOpenUrl, init)
      : fetch(input, init);
  h = await startSlackHarness({ SLACK_APP_TOKEN: socket.appToken }, { fetch: routed });
  await socket.connected();
});
afterAll(async () => {
  await h?.close();
  await socket?.close();
});
beforeEach(() => h.seedream.reset());

function slashPayload(text: string, channel: string): Record<string, string> {
  return {
    token: "legacy-verification-token",
    team_id: h.api.teamId,
    team_domain: h.api.teamDomain,
    channel_id: channel,
    channel_name: "general",
    user_id: h.api.userId,
    user_name: h.api.userName,
    command: "/seedream",
    text,
    api_app_id: h.api.appId,
    is_enterprise_install: "false",
    response_url: h.api.newResponseUrl(),
    trigger_id: `1.${h.api.teamId}.trigger`,
  };
}

describe("Socket Mode (app token)", () => {
  it("acks a slash command over the socket before any image, then streams into the thread", async () => {
    expect(h.slack.mode).toBe("socket");
    const channel = "C0SOCKET01";
    h.seedream.setScenario({ images: [{ kind: "ok", gate: true }] });
    await socket.send("slash_commands", slashPayload("a paper crane", channel));
    expect(h.seedream.wasSent(0)).toBe(false);

    const [parent] = await h.api.recorder.waitFor("message", 1, (m) => m.channel === channel && !m.threadTs);
    expect(parent?.text).toBe(`<@${h.api.userId}> asked: a paper crane`);
    h.seedream.release(0);
    const [upload] = await h.api.recorder.waitFor("upload", 1, { channel, threadTs: parent?.ts });
    expect(sha256(upload?.bytes ?? Buffer.alloc(0))).toBe(sha256(await h.seedream.imageBytes(0)));
    await h.api.recorder.waitFor("update", 1, { ts: parent?.ts, text: /Done: image delivered/ });
  });

  it("handles a mention with a file once, although Slack retries the envelope", async () => {
    const channel = "C0SOCKET02";
    h.seedream.setScenario({ images: [{ kind: "ok" }] });
    const png = await h.seedream.imageBytes(5);
    const file = h.api.addFile({ bytes: png, name: "ref.jpg" });
    const message = h.sender.userMessage({ text: h.mentionBot("make it square"), channel, files: [file] });
    const envelope = h.sender.envelope(message, "app_mention");
    await socket.send("events_api", envelope);
    await socket.send("events_api", envelope, 1);
    await h.log.waitFor(/duplicate slack delivery ignored/, 1);

    const request = await h.seedream.request(0);
    expect(sha256(dataUriBytes(request.body?.image))).toBe(sha256(png));
    await h.api.recorder.waitFor("upload", 1, { channel, threadTs: message.ts });
    expect(h.seedream.requests).toHaveLength(1);
  });

  it("serves GET /healthz on PORT while connected", async () => {
    const response = await fetch(`${h.appUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      platforms: { slack: true },
      store: true,
      notReady: [],
    });
  });
});
