/**
 * The fake's CDN: attachment bytes behind signed, expiring URLs shaped like Discord's
 * (`/attachments/<channel>/<id>/<name>?ex=..&is=..&hm=..`). Expiring a file rotates its signature,
 * so the old URL answers 404 like an expired Discord link and only a fresh message fetch yields a
 * working one.
 */
import type { APIAttachment } from "discord.js";
import { Recorder } from "./discord-recorder.js";

export interface HostAttachmentInput {
  name: string;
  bytes: Uint8Array;
  contentType?: string;
  width?: number;
  height?: number;
  /** Alt text, as Discord returns it in `description`. */
  description?: string;
  /** The channel in the URL path; Discord puts the upload's channel there. */
  channelId?: string;
}

export interface HostedFile {
  id: string;
  channelId: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
  width?: number;
  height?: number;
  description?: string;
  /** Bumped by `expire`; part of the signature, so older URLs stop working. */
  generation: number;
}

export interface CdnRequest {
  path: string;
  attachmentId?: string;
  status: number;
  /** `cdn` for `url`, `media` for `proxy_url`. */
  host: "cdn" | "media";
}

const PATH = /^\/(cdn|media)\/attachments\/(\d+)\/(\d+)\/([^/]+)$/;

export class FakeCdn {
  readonly #files = new Map<string, HostedFile>();
  readonly requests = new Recorder<CdnRequest>("CDN requests", (r) => `${r.status} ${r.path}`);

  constructor(
    private readonly baseUrl: () => string,
    private readonly newId: () => string,
    private readonly defaultChannel: () => string,
  ) {}

  host(input: HostAttachmentInput): HostedFile {
    const file: HostedFile = {
      id: this.newId(),
      channelId: input.channelId ?? this.defaultChannel(),
      filename: sanitizeFilename(input.name),
      contentType: input.contentType ?? "application/octet-stream",
      bytes: Buffer.from(input.bytes),
      generation: 0,
    };
    if (input.width !== undefined) file.width = input.width;
    if (input.height !== undefined) file.height = input.height;
    if (input.description !== undefined) file.description = input.description;
    this.#files.set(file.id, file);
    return file;
  }

  get(id: string): HostedFile | undefined {
    return this.#files.get(id);
  }

  /** Expires one attachment's links (or every link when no id is given). */
  expire(id?: string): void {
    for (const file of id === undefined ? this.#files.values() : [this.#files.get(id)]) {
      if (file) file.generation++;
    }
  }

  attachment(id: string): APIAttachment {
    const file = this.#files.get(id);
    if (!file) throw new Error(`fake Discord: no hosted attachment ${id}`);
    const path = `attachments/${file.channelId}/${file.id}/${encodeURIComponent(file.filename)}`;
    const query = this.#signature(file);
    const attachment: APIAttachment = {
      id: file.id,
      filename: file.filename,
      size: file.bytes.length,
      url: `${this.baseUrl()}/cdn/${path}?${query}`,
      proxy_url: `${this.baseUrl()}/media/${path}?${query}`,
      content_type: file.contentType,
    };
    if (file.width !== undefined) attachment.width = file.width;
    if (file.height !== undefined) attachment.height = file.height;
    if (file.description !== undefined) attachment.description = file.description;
    return attachment;
  }

  /** Serves `/cdn/...` and `/media/...`; undefined when the path is not a CDN path. */
  serve(
    path: string,
    query: URLSearchParams,
  ): { status: number; body: Buffer; contentType: string } | undefined {
    const match = PATH.exec(path);
    if (!match) return undefined;
    const [, host, , id] = match;
    const file = id === undefined ? undefined : this.#files.get(id);
    const valid = file !== undefined && this.#signature(file) === signatureOf(query);
    const status = valid ? 200 : 404;
    this.requests.push({
      path,
      status,
      host: host === "media" ? "media" : "cdn",
      ...(id ? { attachmentId: id } : {}),
    });
    if (!valid || !file) {
      return { status, body: Buffer.from("This content is no longer available."), contentType: "text/plain" };
    }
    return { status, body: file.bytes, contentType: file.contentType };
  }

  #signature(file: HostedFile): string {
    const issued = 0x66000000 + file.generation;
    const hm = `${file.id.slice(-8)}g${file.generation}`;
    return `ex=${(issued + 86_400).toString(16)}&is=${issued.toString(16)}&hm=${hm}`;
  }
}

function signatureOf(query: URLSearchParams): string {
  return `ex=${query.get("ex") ?? ""}&is=${query.get("is") ?? ""}&hm=${query.get("hm") ?? ""}`;
}

/** Discord replaces characters it does not keep in filenames with underscores. */
function sanitizeFilename(name: string): string {
  const cleaned = name.replace(/[^\w.-]+/g, "_");
  return cleaned === "" ? "unknown" : cleaned;
}
