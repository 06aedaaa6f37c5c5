import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of Redis that can lose one reply together with its connection, as a
 * network fault does after Redis has already run the command: the client sees the connection
 * drop with the command unanswered, reconnects, and (ioredis) sends it again.
 */
export interface ReplyDropper {
  /** `redisUrl` (its database too) through the proxy. */
  url(redisUrl: string): string;
  /** The next command whose text contains `needle` runs in Redis, then its reply and connection are lost. */
  dropReplyTo(needle: string): void;
  /** Replies dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

export async function startReplyDropper(redisUrl: string): Promise<ReplyDropper> {
  const target = new URL(redisUrl);
  let armed: string | undefined;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    let dropNextReply = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      if (armed !== undefined && chunk.toString("latin1").toLowerCase().includes(armed)) {
        armed = undefined;
        dropNextReply = true;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!dropNextReply) {
        client.write(chunk);
        return;
      }
      dropped += 1;
      client.destroy();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url(url) {
      const through = new URL(url);
      through.hostname = "127.0.0.1";
      through.port = String(address.port);
      return through.toString();
    },
    dropReplyTo(needle) {
      armed = needle.toLowerCase();
    },
    get dropped() {
      return dropped;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
