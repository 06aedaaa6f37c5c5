/**
 * discord.js's REST calls, routed through OUR undici 7 `fetch` with an explicit dispatcher.
 *
 * Why: discord.js carries undici 6 and, by default, uses its `request` with the process-wide
 * dispatcher. When undici 7 (ours, also loaded by @slack/bolt) loads first it installs that
 * dispatcher, and undici 6 then fails every upload ("action is not a function"). Going through
 * one undici with a dispatcher we own avoids the clash whatever the load order. Multipart bodies
 * arrive as the global FormData of another realm, which undici 7 would send as the text
 * "[object FormData]", so they are serialized by the same-realm `Response` first.
 * `test/fakes-smoke/discord.test.ts` proves both halves against the real client.
 */
import type { RESTOptions } from "discord.js";
import { type Dispatcher, Headers, fetch as undiciFetch } from "undici";

type MakeRequest = RESTOptions["makeRequest"];

/** discord.js's `rest.api` default; DISCORD_API_URL replaces it (a proxy, or a test's fake). */
export const DEFAULT_DISCORD_API_URL = "https://discord.com/api";

export function discordRestRequest(dispatcher: Dispatcher): MakeRequest {
  return async (url, init) => {
    const headers = new Headers(init.headers as Record<string, string> | undefined);
    let body: unknown = init.body;
    if (body instanceof FormData) {
      const encoded = new Response(body);
      headers.set("content-type", encoded.headers.get("content-type") ?? "");
      body = new Uint8Array(await encoded.arrayBuffer());
    }
    const response = await undiciFetch(url, {
      method: init.method ?? "GET",
      headers,
      body: body as Uint8Array | string | null | undefined,
      signal: init.signal as AbortSignal | null | undefined,
      dispatcher,
    });
    return response as unknown as Awaited<ReturnType<MakeRequest>>;
  };
}
