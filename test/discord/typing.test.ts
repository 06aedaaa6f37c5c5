import { describe, expect, it } from "vitest";
import { DiscordThread } from "../../adapters/discord/discord-thread.js";
import type { ReplyTarget } from "../../adapters/discord/reply-targets.js";
import { silentLogger } from "../../src/logger.js";

/** The typing indicator is a REST call: at most one per interval, none once the answer is done. */
describe("the Discord typing indicator", () => {
  it("is sent at most once per typingIntervalMs however often the core asks, and never after finish", async () => {
    let now = 0;
    let typed = 0;
    const target = { typing: async () => void typed++, finish: async () => {} } as unknown as ReplyTarget;
    const thread = new DiscordThread(target, {
      logger: silentLogger,
      typingIntervalMs: 8_000,
      now: () => now,
      onPermissionError: async () => {},
    });
    await thread.typing();
    now = 7_999;
    await thread.typing(); // after image 1
    await thread.typing(); // after image 2
    expect(typed).toBe(1);
    now = 8_000;
    await thread.typing();
    expect(typed).toBe(2);
    await thread.finish();
    now = 60_000;
    await thread.typing();
    expect(typed).toBe(2);
  });
});
