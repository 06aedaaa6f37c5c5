import type { ByteStream } from "../../src/core/ports.js";
import { FileDownloadError } from "./download-error.js";

/**
 * Downloads of user files from a platform's own hosts. Redirects are followed by hand, never by
 * fetch, so every hop is checked against the allowed hosts before a request (and whatever
 * headers it carries, such as a bot token) goes there. The failures are worded once, naming the
 * platform, and raised as `FileDownloadError` with the platform's code prefix.
 */

/** What the loop needs of a fetch response: both the global fetch and undici's satisfy it. */
export interface DownloadResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
  readonly body: (AsyncIterable<Uint8Array> & { cancel(reason?: unknown): Promise<void> }) | null;
}

export interface DownloadInit {
  headers?: Record<string, string>;
  redirect: "manual";
  signal: AbortSignal;
}

export interface DownloadErrors {
  /** The link (or a redirect's location) is not a URL. */
  badUrl(cause: unknown): Error;
  /** A hop points at a host outside `allowedHost`. */
  foreignHost(url: URL): Error;
  tooManyRedirects(): Error;
}

/** What a refused or broken download is called (after the platform's code prefix). */
export type DownloadFailure = "download" | "foreign_host" | "redirect";

/**
 * The standard wording of download failures for one file on one platform ("Slack",
 * "Discord"); codes read `${codePrefix}_${failure}` (`slack_file_foreign_host`).
 */
export function downloadErrors(options: {
  platform: string;
  codePrefix: string;
  fileName: string;
  warn(message: string, fields: Record<string, unknown>): void;
}): DownloadErrors {
  const { platform, fileName: name } = options;
  const make = (kind: DownloadFailure, message: string, cause?: unknown) =>
    new FileDownloadError(`${options.codePrefix}_${kind}`, message, { cause });
  return {
    badUrl: (cause) => make("download", `${platform} gave no usable link for “${name}”.`, cause),
    foreignHost: (hop) => {
      options.warn(`refused to download a file outside ${platform}`, { host: hop.host });
      return make(
        "foreign_host",
        `“${name}” points outside ${platform} (${hop.host}), so the bot didn't download it; upload the image to ${platform} instead.`,
      );
    },
    tooManyRedirects: () =>
      make("redirect", `${platform} redirected the download of “${name}” too many times.`),
  };
}

export interface GuardedDownloadOptions<R extends DownloadResponse> {
  allowedHost(url: URL): boolean;
  /** Headers for one hop, asked afresh for every hop (credentials only where they may go). */
  headers?(url: URL): Record<string, string> | undefined;
  /**
   * The error refusing a redirect, or undefined to follow it. By default every redirect is
   * followed; its target still has to pass `allowedHost` like any other hop.
   */
  refuseRedirect?(from: URL, to: URL): Error | undefined;
  fetch(url: URL, init: DownloadInit): Promise<R>;
  maxRedirects: number;
  errors: DownloadErrors;
}

/**
 * The first response that is not a redirect (its status unchecked: what a 404 or an HTML page
 * means differs per platform). Redirect bodies are drained so the connection is reused.
 */
export async function openGuardedDownload<R extends DownloadResponse>(
  url: string,
  signal: AbortSignal,
  options: GuardedDownloadOptions<R>,
): Promise<R> {
  let current = parseUrl(url, options.errors);
  for (let hop = 0; hop <= options.maxRedirects; hop++) {
    if (!options.allowedHost(current)) throw options.errors.foreignHost(current);
    const init: DownloadInit = { redirect: "manual", signal };
    const headers = options.headers?.(current);
    if (headers !== undefined) init.headers = headers;
    const response = await options.fetch(current, init);
    if (response.status >= 300 && response.status < 400) {
      await discardBody(response);
      const next = parseUrl(response.headers.get("location") ?? "", options.errors, current);
      const refusal = options.refuseRedirect?.(current, next);
      if (refusal) throw refusal;
      current = next;
      continue;
    }
    return response;
  }
  throw options.errors.tooManyRedirects();
}

/** Whether a redirect stays on the origin it came from. */
export const sameOrigin = (from: URL, to: URL): boolean =>
  to.host === from.host && to.protocol === from.protocol;

/** Frees the connection of a response whose body will not be read. */
export async function discardBody(response: DownloadResponse): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** A successful response as a core byte stream, with the size and type it declares. */
export function responseByteStream(response: DownloadResponse): ByteStream {
  const stream: ByteStream = { body: response.body ?? emptyBody() };
  const contentType = response.headers.get("content-type");
  if (contentType !== null) stream.contentType = contentType;
  const length = Number(response.headers.get("content-length"));
  if (response.headers.has("content-length") && Number.isFinite(length) && length >= 0) {
    stream.contentLength = length;
  }
  return stream;
}

function parseUrl(value: string, errors: DownloadErrors, base?: URL): URL {
  try {
    return new URL(value, base);
  } catch (cause) {
    throw errors.badUrl(cause);
  }
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}
