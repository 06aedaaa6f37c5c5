/**
 * discord.js's REST calls, routed through OUR undici 7 `fetch` with an explicit dispatcher.
 *
 * Why: discord.js carries undici 6 and, by default, uses its `request` with the process-wide
 * dispatcher. When undici 7 (ours, also loaded by @slack/bolt) loads first it installs that
 * dispatcher, and undici 6 then fails every upload ("action is not a function"). Going through
 * one undici with a dispatcher we own avoids the clash whatever the load order. Multipart bodies
 * arrive as the global FormData of another realm, which undici 7 would send as the text
 * "[object FormData]", so their entries are moved into undici 7's own FormData: undici then
 * streams each file from its Blob into the socket, never building the whole body in memory
 * (serialising it first cost two more image-sized copies per upload).
 * `test/fakes-smoke/discord.test.ts` proves both halves against the real client.
 */
import type { RESTOptions } from "discord.js";
import { type Dispatcher, Headers, FormData as UndiciFormData, fetch as undiciFetch } from "undici";

type MakeRequest = RESTOptions["makeRequest"];

/** discord.js's `rest.api` default; DISCORD_API_URL replaces it (a proxy, or a test's fake). */
export const DEFAULT_DISCORD_API_URL = "https://discord.com/api";

export function discordRestRequest(dispatcher: Dispatcher): MakeRequest {
  return async (url, init) => {
    const headers = new Headers(init.headers as Record<string, string> | undefined);
    let body: unknown = init.body;
    if (body instanceof FormData) body = sameRealm(body);
    const response = await undiciFetch(url, {
      method: init.method ?? "GET",
      headers,
      body: body as UndiciFormData | Uint8Array | string | null | undefined,
      signal: init.signal as AbortSignal | null | undefined,
      dispatcher,
    });
    return response as unknown as Awaited<ReturnType<MakeRequest>>;
  };
}

/** The same entries in undici 7's FormData (Blobs are moved by reference, not read). */
function sameRealm(form: FormData): UndiciFormData {
  const own = new UndiciFormData();
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") own.append(name, value);
    else own.append(name, value as unknown as Blob, value.name);
  }
  return own;
}
