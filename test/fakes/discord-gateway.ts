/**
 * The fake gateway: JSON encoding, no compression, over `ws`. Speaks what @discordjs/ws needs:
 * Hello → Identify (or Resume) → READY → one GUILD_CREATE per guild, heartbeats ACKed, then
 * dispatches gated by the session's intents, with message content stripped the way Discord does
 * for a client without the Message Content intent. Sharded like Discord: each Identify's
 * `shard: [id, count]` is its own session, and a guild's READY entry, GUILD_CREATE and events
 * go only to the shard that owns it, `(guild_id >> 22) % count`; DMs go to shard 0.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { APIMessage, ApplicationFlags, GatewayReadyDispatchData, UserFlags } from "discord.js";
import { type WebSocket, WebSocketServer } from "ws";
import { Recorder } from "./discord-recorder.js";
import type { World } from "./discord-state.js";

export const Intent = {
  Guilds: 1 << 0,
  GuildMessages: 1 << 9,
  DirectMessages: 1 << 12,
  MessageContent: 1 << 15,
} as const;

export interface IdentifyRecord {
  seq: number;
  tokenValid: boolean;
  intents: number;
  properties: unknown;
  shard: unknown;
  compress: unknown;
  /** The connection URL's query (`v`, `encoding`, `compress`). */
  query: Record<string, string>;
}

export interface DispatchRecord {
  t: string;
  s: number;
  d: unknown;
  /** The shard id of the session it was sent on. */
  shard: number;
}

/** A fresh-looking guild snowflake that Discord routes to `shard` of `shardCount`. */
export function guildIdOnShard(shard: number, shardCount: number): string {
  const sinceEpoch = BigInt(Date.now() - 1_420_070_400_000);
  const ms = sinceEpoch - (sinceEpoch % BigInt(shardCount)) + BigInt(shard);
  return (ms << 22n).toString();
}

/** The shard that receives a guild's events: Discord's `(guild_id >> 22) % shard_count`. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export interface GatewayOptions {
  token: string;
  heartbeatIntervalMs: number;
  /** When false, identifying with the Message Content intent closes with 4014 (not enabled in the portal). */
  messageContentAllowed: boolean;
  url: () => string;
}

interface Session {
  id: string;
  /** `[shard_id, num_shards]` from the Identify; `[0, 1]` when it sent none. */
  shard: readonly [number, number];
  intents: number;
  seq: number;
  ws: WebSocket | undefined;
  live: boolean;
}

type Build = (intents: number) => { t: string; d: unknown } | undefined;

/** A queued dispatch: sent on the session owning `guildId` (shard 0 without one), once it is live. */
interface Queued {
  guildId: string | undefined;
  build: Build;
  resolve: () => void;
}

export class FakeGateway {
  readonly identifies = new Recorder<IdentifyRecord>(
    "identifies",
    (r) => `intents=${r.intents} ${r.tokenValid}`,
  );
  readonly heartbeats = new Recorder<{ d: unknown }>("heartbeats");
  readonly dispatched = new Recorder<DispatchRecord>("dispatches", (r) => `shard ${r.shard} ${r.s} ${r.t}`);
  /** Every payload the client sent, including presence updates and member requests. */
  readonly received = new Recorder<{ op: number; d: unknown }>("client payloads", (r) => `op ${r.op}`);
  /** Protocol problems the fake refused (e.g. a request for zlib-stream compression). */
  readonly violations: string[] = [];
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sessions = new Map<string, Session>();
  /** The current session of each shard id (a new Identify for a shard replaces the old one). */
  readonly #shards = new Map<number, Session>();
  #latest: Session | undefined;
  #queue: Queued[] = [];
  #readyHeld: Promise<void> | undefined;

  constructor(
    private readonly world: World,
    private readonly options: GatewayOptions,
  ) {}

  /** Intents of the current session (undefined before the first Identify). */
  get intents(): number | undefined {
    return this.#latest?.intents;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const query = Object.fromEntries(new URL(req.url ?? "/", "http://x").searchParams);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, query));
  }

  /** Holds READY (and GUILD_CREATE) after an Identify until the returned function is called. */
  holdReady(): () => void {
    let release = () => {};
    this.#readyHeld = new Promise<void>((resolve) => {
      release = () => {
        this.#readyHeld = undefined;
        resolve();
      };
    });
    return release;
  }

  /**
   * Resolves once a session got READY and every GUILD_CREATE of its shard (dispatches sent later
   * reach a ready client).
   */
  async waitForReady(): Promise<IdentifyRecord> {
    await this.dispatched.waitFor((d) => d.t === "READY");
    const ready = this.dispatched.all.findLastIndex((d) => d.t === "READY");
    const shard = this.dispatched.all[ready]?.shard ?? 0;
    const session = this.#shards.get(shard);
    const guilds = session ? this.#owned(session).length : 0;
    const sent = () =>
      this.dispatched.all.slice(ready).filter((d) => d.t === "GUILD_CREATE" && d.shard === shard).length;
    if ((session?.intents ?? 0) & Intent.Guilds && sent() < guilds) {
      await this.dispatched.waitFor(() => sent() >= guilds);
    }
    return this.identifies.all.at(-1) as IdentifyRecord;
  }

  /** The shard ids with a live session (READY or RESUMED, socket open). */
  liveShards(): number[] {
    return [...this.#shards.values()]
      .filter((s) => s.live)
      .map((s) => s.shard[0])
      .sort((a, b) => a - b);
  }

  /** Sends a dispatch to the live session, queued until one is live (after READY/RESUMED). */
  dispatch(t: string, d: unknown): Promise<void> {
    const guildId = (d as { guild_id?: unknown } | null)?.guild_id;
    return this.#enqueue(typeof guildId === "string" ? guildId : undefined, () => ({ t, d }));
  }

  /** MESSAGE_CREATE/UPDATE as Discord would send it to this session, or nothing if its intents exclude it. */
  dispatchMessage(t: "MESSAGE_CREATE" | "MESSAGE_UPDATE", messageId: string): Promise<void> {
    return this.#enqueue(this.world.messages.get(messageId)?.guildId, (intents) => {
      const message = this.world.render(messageId);
      const stored = this.world.messages.get(messageId);
      if (!message || !stored) return undefined;
      const inGuild = stored.guildId !== undefined;
      if (!(intents & (inGuild ? Intent.GuildMessages : Intent.DirectMessages))) return undefined;
      const d: Record<string, unknown> = {
        ...this.#visible(message, intents, inGuild),
        channel_type: inGuild ? 0 : 1,
      };
      if (stored.guildId !== undefined) {
        const guild = this.world.guilds.find((g) => g.id === stored.guildId);
        const member = guild?.members.get(message.author.id);
        d.guild_id = stored.guildId;
        if (member) d.member = { ...member, user: undefined };
        d.mentions = message.mentions.map((u) => {
          const m = guild?.members.get(u.id);
          return m ? { ...u, member: { ...m, user: undefined } } : u;
        });
      }
      return { t, d };
    });
  }

  /** Closes every shard's socket as Discord does on a server restart; the client resumes. */
  disconnect(code = 4000): void {
    for (const session of this.#shards.values()) session.ws?.close(code, "fake Discord disconnect");
  }

  /** Asks every shard's client to reconnect (op 7); each resumes its session. */
  requestReconnect(): void {
    for (const session of this.#shards.values()) session.ws?.send(JSON.stringify({ op: 7, d: null }));
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #enqueue(guildId: string | undefined, build: Build): Promise<void> {
    return new Promise((resolve) => {
      this.#queue.push({ guildId, build, resolve });
      this.#flush();
    });
  }

  /** The live session a guild's events go to (shard 0's for DMs), if it is connected. */
  #owner(guildId: string | undefined): Session | undefined {
    for (const session of this.#shards.values()) {
      const [id, count] = session.shard;
      const owns = guildId === undefined ? id === 0 : shardOf(guildId, count) === id;
      if (owns && session.live && session.ws) return session;
    }
    return undefined;
  }

  /** Sends, in order, every queued dispatch whose shard is live; the rest wait for theirs. */
  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const item of queue) {
      const session = this.#owner(item.guildId);
      if (!session) {
        this.#queue.push(item);
        continue;
      }
      const payload = item.build(session.intents);
      if (payload) this.#send(session, payload.t, payload.d);
      item.resolve();
    }
  }

  #owned(session: Session): World["guilds"] {
    const [id, count] = session.shard;
    return this.world.guilds.filter((g) => shardOf(g.id, count) === id);
  }

  #send(session: Session, t: string, d: unknown): void {
    session.seq++;
    session.ws?.send(JSON.stringify({ op: 0, t, s: session.seq, d }));
    this.dispatched.push({ t, s: session.seq, d, shard: session.shard[0] });
  }

  #accept(ws: WebSocket, query: Record<string, string>): void {
    if (query.compress !== undefined || query.encoding !== "json" || query.v !== "10") {
      this.violations.push(`unsupported gateway query ${JSON.stringify(query)}`);
      ws.close(4000, "fake Discord speaks v=10, encoding=json, no compression");
      return;
    }
    let session: Session | undefined;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.options.heartbeatIntervalMs } }));
    ws.on("message", (raw) => {
      let payload: { op: number; d: unknown };
      try {
        payload = JSON.parse(raw.toString());
      } catch {
        ws.close(4002, "Error while decoding payload.");
        return;
      }
      this.received.push(payload);
      if (payload.op === 1) {
        this.heartbeats.push({ d: payload.d });
        ws.send(JSON.stringify({ op: 11 }));
      } else if (payload.op === 2) {
        if (session) return ws.close(4005, "Already authenticated.");
        session = this.#identify(ws, payload.d as Record<string, unknown>, query);
      } else if (payload.op === 6) {
        if (session) return ws.close(4005, "Already authenticated.");
        session = this.#resume(ws, payload.d as Record<string, unknown>);
      } else if (!session) {
        ws.close(4003, "Not authenticated.");
      } else if (payload.op === 8) {
        this.#memberChunk(session, payload.d as Record<string, unknown>);
      }
    });
    ws.on("close", () => {
      if (session && session.ws === ws) {
        session.live = false;
        session.ws = undefined;
      }
    });
  }

  #identify(ws: WebSocket, d: Record<string, unknown>, query: Record<string, string>): Session | undefined {
    const intents = typeof d.intents === "number" ? d.intents : Number.NaN;
    const record: IdentifyRecord = {
      seq: this.identifies.count + 1,
      tokenValid: d.token === this.options.token,
      intents,
      properties: d.properties,
      shard: d.shard,
      compress: d.compress,
      query,
    };
    this.identifies.push(record);
    if (!record.tokenValid) {
      ws.close(4004, "Authentication failed.");
      return undefined;
    }
    if (!Number.isInteger(intents)) {
      ws.close(4013, "Invalid intent(s).");
      return undefined;
    }
    if (intents & Intent.MessageContent && !this.options.messageContentAllowed) {
      ws.close(4014, "Disallowed intent(s).");
      return undefined;
    }
    const shard = d.shard === undefined ? ([0, 1] as const) : validShard(d.shard);
    if (!shard) {
      ws.close(4010, "Invalid shard.");
      return undefined;
    }
    const session: Session = {
      id: randomUUID().replaceAll("-", ""),
      shard,
      intents,
      seq: 0,
      ws,
      live: false,
    };
    this.#sessions.set(session.id, session);
    this.#shards.set(shard[0], session);
    this.#latest = session;
    const owned = this.#owned(session);
    const ready: GatewayReadyDispatchData = {
      v: 10,
      user: { ...this.world.bot, verified: true, mfa_enabled: false, flags: 0 as UserFlags },
      guilds: owned.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.options.url(),
      shard: [shard[0], shard[1]],
      application: { id: this.world.applicationId, flags: 0 as ApplicationFlags, flags_new: "0" },
    };
    const sendReady = () => {
      this.#send(session, "READY", ready);
      if (intents & Intent.Guilds) {
        for (const guild of owned) this.#send(session, "GUILD_CREATE", this.world.guildCreate(guild));
      }
      session.live = true;
      this.#flush();
    };
    if (this.#readyHeld) void this.#readyHeld.then(sendReady);
    else sendReady();
    return session;
  }

  #resume(ws: WebSocket, d: Record<string, unknown>): Session | undefined {
    const session = typeof d.session_id === "string" ? this.#sessions.get(d.session_id) : undefined;
    if (!session || d.token !== this.options.token || session !== this.#shards.get(session.shard[0])) {
      ws.send(JSON.stringify({ op: 9, d: false }));
      return undefined;
    }
    session.ws = ws;
    this.#send(session, "RESUMED", {});
    session.live = true;
    this.#flush();
    return session;
  }

  /** Op 8 (guild.members.fetch()): one GUILD_MEMBERS_CHUNK, else discord.js waits for it forever. */
  #memberChunk(session: Session, d: Record<string, unknown>): void {
    const guild = this.#owned(session).find((g) => g.id === d.guild_id);
    if (!guild) return;
    const wanted = Array.isArray(d.user_ids)
      ? d.user_ids
      : typeof d.user_ids === "string"
        ? [d.user_ids]
        : undefined;
    const members = [...guild.members.values()].filter(
      (m) => wanted === undefined || wanted.includes(m.user.id),
    );
    const chunk = { guild_id: guild.id, members, chunk_index: 0, chunk_count: 1, nonce: d.nonce };
    this.#send(session, "GUILD_MEMBERS_CHUNK", chunk);
  }

  /** Without Message Content, Discord blanks content-bearing fields unless the app is mentioned or it is a DM. */
  #visible(message: APIMessage, intents: number, inGuild: boolean): APIMessage {
    const strip = (m: APIMessage): APIMessage => {
      const exempt =
        intents & Intent.MessageContent ||
        !inGuild ||
        m.author.id === this.world.bot.id ||
        m.mentions.some((u) => u.id === this.world.bot.id);
      return exempt ? m : { ...m, content: "", embeds: [], attachments: [], components: [], poll: undefined };
    };
    const visible = strip(message);
    if (message.referenced_message) visible.referenced_message = strip(message.referenced_message);
    return visible;
  }
}

/** `[shard_id, num_shards]` with `0 <= shard_id < num_shards`, else undefined (close 4010). */
function validShard(value: unknown): readonly [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [id, count] = value as unknown[];
  if (!Number.isInteger(id) || !Number.isInteger(count)) return undefined;
  const [i, c] = [id as number, count as number];
  return i >= 0 && c >= 1 && i < c ? [i, c] : undefined;
}
