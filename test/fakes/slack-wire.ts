/**
 * Wire-level helpers shared by the fake Slack pieces: request body parsing in the three encodings
 * Slack accepts (the real WebClient sends form-encoded method calls and multipart upload bodies;
 * other clients send JSON), message timestamps, and small response writers.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

export type Params = Record<string, unknown>;

/** A Slack `{ok:false, error}` answer (HTTP 200 unless a fault says otherwise). */
export class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Params = {},
  ) {
    super(code);
  }
}

export interface ParsedBody {
  contentType: string;
  raw: Buffer;
  params: Params;
  /** Files from a multipart body, by field name (the WebClient puts upload bytes in `body`). */
  files: Map<string, { bytes: Buffer; filename: string; type: string }>;
}

export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

export async function parseBody(req: IncomingMessage): Promise<ParsedBody> {
  const raw = await readRaw(req);
  const contentType = String(req.headers["content-type"] ?? "");
  const params: Params = {};
  const files: ParsedBody["files"] = new Map();
  const mime = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (mime === "application/x-www-form-urlencoded") {
    for (const [k, v] of new URLSearchParams(raw.toString("utf8"))) params[k] = v;
  } else if (mime === "application/json") {
    const parsed: unknown = raw.length > 0 ? JSON.parse(raw.toString("utf8")) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) Object.assign(params, parsed);
  } else if (mime === "multipart/form-data") {
    // Undici's Request parses multipart exactly as a server would; no hand-rolled boundary parsing.
    const form = await new Request("http://fake.invalid/", {
      method: "POST",
      headers: { "content-type": contentType },
      body: raw,
    }).formData();
    for (const [k, v] of form) {
      if (typeof v === "string") params[k] = v;
      else files.set(k, { bytes: Buffer.from(await v.arrayBuffer()), filename: v.name, type: v.type });
    }
  }
  return { contentType, raw, params, files };
}

export function queryParams(url: URL): Params {
  const out: Params = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

/** Form-encoded calls carry arrays/objects as JSON strings; JSON calls carry them as-is. */
export function jsonField(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return JSON.parse(value);
}

export function str(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  return String(value);
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = "text/plain; charset=utf-8",
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Slack message timestamps: "<seconds>.<6 digits>", unique and increasing per workspace. */
export class TsClock {
  private seconds = Math.floor(Date.now() / 1000);
  private micros = 0;

  next(): string {
    this.micros += 100;
    if (this.micros > 999_999) {
      this.seconds += 1;
      this.micros = 100;
    }
    return `${this.seconds}.${String(this.micros).padStart(6, "0")}`;
  }

  nowSeconds(): number {
    return this.seconds;
  }
}

export function randomId(prefix: string, length = 10): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** What real Slack serves for a private file URL fetched without a valid token (status 200!). */
export const SLACK_LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Slack</title></head>
<body class="signin"><div id="page"><h1>Sign in to your workspace</h1>
<form id="signin_form" action="/" method="post"><input type="email" name="email">
<input type="password" name="password"><button type="submit">Sign in</button></form></div></body></html>
`;
