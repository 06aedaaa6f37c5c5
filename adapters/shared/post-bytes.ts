import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * POSTs bytes exactly as they are and resolves with the answer's status (its body is read and
 * dropped). `fetch` cannot do this for an image: the Fetch standard makes it copy a BufferSource
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

export const postBytes: PostBytes = (url, bytes, init) =>
  new Promise<number>((resolve, reject) => {
    const secure = url.protocol === "https:";
    if (!secure && url.protocol !== "http:") {
      reject(new Error(`cannot upload to a ${url.protocol} URL`));
      return;
    }
    const send = secure ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: "POST",
        agent: agents[secure ? "https:" : "http:"],
        headers: { ...init.headers, "content-length": String(bytes.byteLength) },
        signal: init.signal,
      },
      (response) => {
        response.on("error", reject);
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.on("error", reject);
    request.end(bytes);
  });
