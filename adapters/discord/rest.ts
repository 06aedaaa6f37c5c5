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
 * (serialising it first cost two more image-sized copies per upload), and reads each file in
 * 64 KiB slices (`PiecewiseFile`), not as one more copy of the whole.
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

/** How much of a file undici is handed at a time. */
export const FILE_PIECE_BYTES = 64 * 1024;

/**
 * A file undici reads in slices. undici sends a multipart file by reading its Blob's `stream()`,
 * and Node 20 hands over a Blob built from one Buffer (as discord.js builds each upload) as ONE
 * chunk: a fresh copy of the whole image, on top of discord.js's own. Slices of a Blob share its
 * data, so reading it slice by slice sends the same bytes without an image-sized copy. Built
 * from the Blob itself (a File made of a Blob shares its data too).
 */
class PiecewiseFile extends File {
  override stream(): ReturnType<File["stream"]> {
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (offset >= this.size) {
          controller.close();
          return;
        }
        const piece = this.slice(offset, offset + FILE_PIECE_BYTES);
        offset += piece.size;
        controller.enqueue(new Uint8Array(await piece.arrayBuffer()));
      },
    }) as ReturnType<File["stream"]>;
  }
}

/**
 * The same entries in undici 7's FormData; files by reference (never read here), each in a
 * PiecewiseFile. Given without a separate filename: undici would wrap it in a File of its own.
 */
export function sameRealm(form: FormData): UndiciFormData {
  const own = new UndiciFormData();
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") own.append(name, value);
    else own.append(name, new PiecewiseFile([value], value.name, { type: value.type }));
  }
  return own;
}
