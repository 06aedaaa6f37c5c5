import type { ChildProcess } from "node:child_process";

/**
 * Request and answer over a child process's IPC channel: the bench's driver asks, the bot or the
 * fake Seedream (each in its own process, so their work is not counted as the other's) answers.
 */

interface Envelope {
  id: number;
  type: string;
  payload?: unknown;
  error?: string;
}

let nextId = 0;

/** Asks `child` for `type`; resolves with its answer's payload. */
export function ask<T>(child: ChildProcess, type: string, payload?: unknown): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: Envelope) => {
      if (message.id !== id) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.payload as T);
    };
    const onExit = (code: number | null) => {
      child.off("message", onMessage);
      reject(new Error(`the child exited (${code}) before answering ${type}`));
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
    child.send({ id, type, payload } satisfies Envelope);
  });
}

/** In the child: answers each request with `handlers[type]`. */
export function answer(handlers: Record<string, (payload: unknown) => unknown>): void {
  process.on("message", (message: Envelope) => {
    const handler = handlers[message.type];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no handler for ${message.type}`);
        return handler(message.payload);
      })
      .then(
        (payload) => process.send?.({ id: message.id, type: message.type, payload }),
        (error: unknown) => process.send?.({ id: message.id, type: message.type, error: String(error) }),
      );
  });
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable across processes. */
export const wallClock = (): number => performance.timeOrigin + performance.now();
