import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * POSTs bytes exactly as they are and resolves with the answer's status (`sendParts` with one
 * part). `fetch` cannot do this for an image: the Fetch standard makes it copy a BufferSource
 * body before sending it (undici does: one more image-sized allocation per upload). Node's own
 * client writes the Buffer to the socket as it is. No redirect is followed.
 */
export type PostBytes = (
  url: URL,
  bytes: Uint8Array,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<number>;

/** Keep-alive pools of our own, so no other library's global agent settings apply. */
const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
} as const;

export const postBytes: PostBytes = async (url, bytes, init) =>
  (await sendParts(url, [bytes], { method: "POST", ...init })).status;

/** An answer read whole (a small one: an API's JSON). */
export interface WholeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends `parts` one after another as the request's body, each written to the socket as it is
 * (no copy), on the keep-alive pools above, and resolves with the whole answer: Slack's upload
 * POST (one part) and Discord's multipart uploads, whose files are parts of their own
 * (adapters/discord/rest.ts).
 */
export function sendParts(
  url: URL,
  parts: readonly Uint8Array[],
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal | undefined },
): Promise<WholeAnswer> {
  return new Promise<WholeAnswer>((resolve, reject) => {
    const secure = url.protocol === "https:";
    if (!secure && url.protocol !== "http:") {
      reject(new Error(`cannot send to a ${url.protocol} URL`));
      return;
    }
    const send = secure ? httpsRequest : httpRequest;
    const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
    const request = send(
      url,
      {
        method: init.method,
        agent: agents[secure ? "https:" : "http:"],
        headers: { ...init.headers, "content-length": String(length) },
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on("error", reject);
    for (const part of parts) request.write(part);
    request.end();
  });
}
