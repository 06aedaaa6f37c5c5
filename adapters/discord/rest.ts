/**
 * discord.js's REST calls, routed through OUR undici 7 with an explicit dispatcher; uploads
 * made lean by `leanUploads` go through Node's own HTTP client instead.
 *
 * Why: discord.js carries undici 6 and, by default, uses its `request` with the process-wide
 * dispatcher. When undici 7 (ours, also loaded by @slack/bolt) loads first it installs that
 * dispatcher, and undici 6 then fails every upload ("action is not a function"). Going through
 * one undici with a dispatcher we own (or through no undici at all) avoids the clash whatever
 * the load order.
 *
 * Uploads: discord.js's REST layer copies each file into a `new Blob([data])` and sends a
 * FormData; reading a Blob back for the socket allocates every byte again. Every such copy,
 * and every image kept reachable after its upload, is an ArrayBuffer V8 counts as external
 * memory, and V8 counts external memory since the last full GC against the old generation's
 * limit: with the bot's small, slowly growing heap (the limit sits ~23 MB above the live heap)
 * that set off about one full mark-compact per 4K image (bench/RESULTS.md, delivery notes). So
 * `leanUploads` hands discord.js's REST queue (rate limits, retries: still all discord.js's) a
 * multipart body of its own, made of the files' own Buffers between a few header bytes, and
 * the request function writes those Buffers into the socket with Node's client
 * (`sendMultipart` says why not undici): no Blob, no web stream, no copy of the image.
 * Other multipart bodies (files that are not bytes, `appendToFormData`) still arrive as the
 * global FormData of another realm, which undici 7's fetch would send as the text
 * "[object FormData]", so their entries are moved into undici 7's own FormData.
 * `test/fakes-smoke/discord.test.ts` proves the dispatcher half against the real client,
 * test/discord/upload-body.test.ts the upload half.
 */
import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { InternalRequest, RawFile, REST, RESTOptions } from "discord.js";
import { type Dispatcher, Headers, Response, FormData as UndiciFormData, fetch as undiciFetch } from "undici";
import { sniffImageType as sniffGeneratedImage } from "../../src/core/image-check.js";
import { sendParts } from "../shared/post-bytes.js";

type MakeRequest = RESTOptions["makeRequest"];
type ResponseLike = Awaited<ReturnType<MakeRequest>>;

/** discord.js's `rest.api` default; DISCORD_API_URL replaces it (a proxy, or a test's fake). */
export const DEFAULT_DISCORD_API_URL = "https://discord.com/api";

export function discordRestRequest(dispatcher: Dispatcher): MakeRequest {
  return async (url, init) => {
    if (init.body instanceof MultipartBody) return sendMultipart(url, init, init.body);
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
    return response as unknown as ResponseLike;
  };
}

/**
 * A multipart/form-data body (RFC 7578, the layout undici's FormData writes) as a list of
 * byte ranges: each file's own bytes, never copied, between small header parts. Sent as it is
 * by `discordRestRequest`, again as it is when discord.js retries the request.
 */
export class MultipartBody {
  readonly boundary = `----seedream-bot-${randomBytes(16).toString("hex")}`;
  readonly parts: readonly Uint8Array[];
  readonly length: number;

  constructor(fields: readonly MultipartField[]) {
    const parts: Uint8Array[] = [];
    for (const field of fields) {
      const file =
        field.fileName === undefined
          ? ""
          : `; filename="${escapeName(field.fileName)}"\r\nContent-Type: ${field.contentType ?? "application/octet-stream"}`;
      parts.push(
        Buffer.from(
          `--${this.boundary}\r\nContent-Disposition: form-data; name="${escapeName(field.name)}"${file}\r\n\r\n`,
        ),
        typeof field.value === "string" ? Buffer.from(normalizeLineBreaks(field.value)) : field.value,
        Buffer.from("\r\n"),
      );
    }
    parts.push(Buffer.from(`--${this.boundary}--\r\n`));
    this.parts = parts;
    this.length = parts.reduce((sum, part) => sum + part.byteLength, 0);
  }

  get contentType(): string {
    return `multipart/form-data; boundary=${this.boundary}`;
  }
}

export interface MultipartField {
  name: string;
  value: string | Uint8Array;
  /** A file's name; a field without one is a plain form value. */
  fileName?: string;
  contentType?: string;
}

// What undici's FormData does to names and string values (the WHATWG multipart encoding).
const escapeName = (name: string) => name.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
const normalizeLineBreaks = (value: string) => value.replace(/\r?\n|\r/g, "\r\n");

/**
 * Makes `rest` send requests whose files are all bytes as a `MultipartBody`: the same fields
 * discord.js would put in its FormData (`files[i]` or the file's key, then `payload_json`),
 * each file's content type given or sniffed from its first bytes as discord.js does. The
 * request still goes through `rest.request`, so discord.js queues it, waits out rate limits
 * and retries it.
 */
export function leanUploads(rest: REST): void {
  const request = rest.request.bind(rest);
  rest.request = (options) => request(withMultipartBody(options));
}

export function withMultipartBody(options: InternalRequest): InternalRequest {
  const files = options.files;
  if (!files?.length || options.appendToFormData) return options;
  const fields: MultipartField[] = [];
  for (const [index, file] of files.entries()) {
    const bytes = bytesOf(file);
    if (bytes === undefined) return options;
    fields.push({
      name: file.key ?? `files[${index}]`,
      value: bytes,
      fileName: file.name,
      ...contentTypeField(file.contentType ?? sniffImageType(bytes)),
    });
  }
  if (options.body != null) fields.push({ name: "payload_json", value: JSON.stringify(options.body) });
  const body = new MultipartBody(fields);
  const { files: _sent, ...rest } = options;
  return {
    ...rest,
    body,
    passThroughBody: true,
    headers: { ...options.headers, "Content-Type": body.contentType },
  };
}

const contentTypeField = (contentType: string | undefined) =>
  contentType === undefined ? {} : { contentType };

function bytesOf(file: RawFile): Uint8Array | undefined {
  const data: unknown = file.data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}

/**
 * The image formats the bot uploads, by their magic bytes (discord.js sniffs with magic-bytes.js):
 * the image check's PNG, JPEG and WebP, and GIF.
 */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const gif = bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x38;
  return sniffGeneratedImage(bytes) ?? (gif ? "image/gif" : undefined);
}

/**
 * A `MultipartBody` through Node's own HTTP client (adapters/shared/post-bytes.ts, as Slack's
 * uploads go), each part written to the socket as it is; the answer (Discord's JSON) is read
 * whole. Not through undici: undici (fetch and `request` alike) kept each uploaded image
 * reachable from old-generation objects after the upload, so every image outlived two
 * scavenges and was promoted, and ~5 MB of dead images per run piled up in the old generation
 * until V8 ran a full GC for the external memory (15 one-at-a-time 4K runs: 14 mark-compacts
 * through undici, 0 through node:http; bench/RESULTS.md, delivery notes). The process-wide
 * undici dispatcher is not involved either way, so the clash described above cannot occur.
 */
async function sendMultipart(
  url: string,
  init: Parameters<MakeRequest>[1],
  body: MultipartBody,
): Promise<ResponseLike> {
  const answer = await sendParts(new URL(url), body.parts, {
    method: init.method ?? "POST",
    headers: (init.headers ?? {}) as Record<string, string>,
    signal: (init.signal ?? undefined) as AbortSignal | undefined,
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const { status } = answer;
  // A Response of undici's own over the small answer: what fetch would have given discord.js.
  const nullBody = status === 204 || status === 205 || status === 304;
  const response = new Response(nullBody ? null : answer.body, {
    status,
    statusText: STATUS_CODES[status] ?? "",
    headers,
  });
  return response as unknown as ResponseLike;
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
