/**
 * Awaiting a discord.js client event in tests, registered before the action that causes it so
 * nothing is missed. Type-only import: this file must not load discord.js (load order matters).
 */
import type { Client, ClientEvents } from "discord.js";

export function nextEvent<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  accept: (...args: ClientEvents[K]) => boolean = () => true,
): Promise<ClientEvents[K]> {
  return new Promise((resolve) => {
    const listener = (...args: ClientEvents[K]) => {
      if (!accept(...args)) return;
      client.off(event, listener);
      resolve(args);
    };
    client.on(event, listener);
  });
}
