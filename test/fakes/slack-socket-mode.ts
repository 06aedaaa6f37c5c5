import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

/**
 * Slack's Socket Mode side on 127.0.0.1: `apps.connections.open` (Web API wire format, app token
 * as Bearer) hands out a WebSocket URL; on that socket the fake sends `hello`, then envelopes
 * (`events_api`, `slash_commands`) and records the acks the app sends back.
 */

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
}

export class FakeSocketMode {
  readonly acks: SocketAck[] = [];
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private port = 0;
  private socket: import("ws").WebSocket | undefined;
  private ackWaiters = new Map<string, (ack: SocketAck) => void>();
  private connectedWaiters: Array<() => void> = [];

  private constructor(readonly appToken: string) {}

  static async start(appToken: string): Promise<FakeSocketMode> {
    const fake = new FakeSocketMode(appToken);
    const wss = new WebSocketServer({ noServer: true });
    const server = createServer((req, res) => {
      void fake.connectionsOpen(req).then((body) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    server.on("upgrade", (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => fake.accept(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    fake.server = server;
    fake.wss = wss;
    fake.port = (server.address() as AddressInfo).port;
    return fake;
  }

  /** Where `apps.connections.open` is answered. */
  get connectionsOpenUrl(): string {
    return `http://127.0.0.1:${this.port}/api/apps.connections.open`;
  }

  /** Resolves once an app is connected (hello sent). */
  connected(): Promise<void> {
    if (this.socket) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  /** Sends an envelope; resolves with the app's ack for it. */
  send(type: "events_api" | "slash_commands", payload: unknown, retryAttempt = 0): Promise<SocketAck> {
    const envelopeId = randomUUID();
    const acked = new Promise<SocketAck>((resolve) => this.ackWaiters.set(envelopeId, resolve));
    this.socket?.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type === "slash_commands",
        retry_attempt: retryAttempt,
        retry_reason: retryAttempt > 0 ? "timeout" : "",
      }),
    );
    return acked;
  }

  async close(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async connectionsOpen(req: IncomingMessage): Promise<Record<string, unknown>> {
    for await (const _chunk of req) {
      // drain the (empty) form body
    }
    if (!req.url?.endsWith("/apps.connections.open")) return { ok: false, error: "unknown_method" };
    if (req.headers.authorization !== `Bearer ${this.appToken}`) return { ok: false, error: "invalid_auth" };
    return { ok: true, url: `ws://127.0.0.1:${this.port}/link/?ticket=${randomUUID()}` };
  }

  private accept(ws: import("ws").WebSocket): void {
    this.socket = ws;
    ws.on("message", (data) => {
      const ack = JSON.parse(String(data)) as SocketAck;
      this.acks.push(ack);
      this.ackWaiters.get(ack.envelope_id)?.(ack);
      this.ackWaiters.delete(ack.envelope_id);
    });
    ws.send(JSON.stringify({ type: "hello", num_connections: 1, connection_info: { app_id: "A0APP00001" } }));
    for (const resolve of this.connectedWaiters.splice(0)) resolve();
  }
}
