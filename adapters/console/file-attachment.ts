import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { Attachment } from "../../src/core/ports.js";
import { BotError } from "../../src/errors.js";

/** A local file as a core attachment; the core still caps, sniffs and normalises it. */
export function fileAttachment(path: string): Attachment {
  return {
    name: basename(path),
    // Again reads the file from the same place (absolute: the working directory may change).
    descriptor: { kind: "file", platform: "console", name: basename(path), locator: { path: resolve(path) } },
    async fetch(signal) {
      const info = await stat(path).catch((cause: unknown) => {
        throw new BotError("file_not_found", `cannot read ${path}`, {
          userMessage: `I can't read ${path}: check the path.`,
          cause,
        });
      });
      if (!info.isFile()) {
        throw new BotError("file_not_found", `${path} is not a file`, {
          userMessage: `${path} is not a file.`,
        });
      }
      return { body: createReadStream(path, { signal }), contentLength: info.size };
    },
  };
}
