import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { Handler } from "../../src/core/handler.js";
import type { IncomingRequest } from "../../src/core/ports.js";
import { ConsoleThread, type SavedImage } from "./console-thread.js";
import { fileAttachment } from "./file-attachment.js";

export interface ConsoleOptions {
  handler: Handler;
  input: Readable;
  /** Writes one line to the terminal. */
  print: (line: string) => void;
  outDir: string;
  cwd: string;
  userName?: string;
}

const PLATFORM = "console";

const CONSOLE_HELP = [
  "Type a prompt with flags (try `help`), attach files with --ref FILE,",
  "edit image N of the last run with `reply N <text>`; `again N`, `vary N`, `edit N <text>` follow",
  "up on image N of the last run; `cancel` stops your run, `exit` quits.",
].join("\n");

/**
 * A terminal in front of the core: each line is a request, handled while the next is typed
 * (so `cancel` works mid-run). Resolves when input ends and every run has finished.
 */
export async function runConsole(options: ConsoleOptions): Promise<void> {
  const { print } = options;
  const user = { id: "console", displayName: options.userName ?? "you" };
  let lastRun: SavedImage[] = [];
  let ids = 0;
  const nextId = () => `${Date.now().toString(36)}-${++ids}`;

  const lines = createInterface({ input: options.input, terminal: false });
  print(`seedream-bot console. ${CONSOLE_HELP}`);
  for await (const raw of lines) {
    const line = raw.trim();
    if (line === "") continue;
    if (line === "exit" || line === "quit") {
      // Leaving the loop only pauses the input; an open stdin would keep the process alive.
      lines.close();
      options.input.destroy();
      break;
    }
    if (line === "?") {
      print(CONSOLE_HELP);
      continue;
    }
    const parsed = parseConsoleLine(line);
    const request: IncomingRequest = {
      platform: PLATFORM,
      conversationId: "console",
      user,
      text: parsed.text,
      attachments: parsed.refs.map((path) => fileAttachment(path)),
      resolveStoredImage: (image) => fileAttachment(image.ref ?? image.fileName),
      resolveFile: (descriptor) => fileAttachment(descriptor.locator.path ?? descriptor.name),
    };
    if (parsed.followUp !== undefined) {
      // N is the image's label ("2/4" is 2), whatever order the images arrived in.
      const { verb, image } = parsed.followUp;
      const target = lastRun.find((saved) => saved.key.index === image - 1);
      if (!target) {
        print(
          lastRun.length ? `The last run has no image ${image}.` : "There is no image to follow up on yet.",
        );
        continue;
      }
      request.followUp = { verb, image: target.key };
    }
    if (parsed.replyTo !== undefined) {
      const target = lastRun[parsed.replyTo - 1];
      if (!target) {
        print(
          lastRun.length
            ? `The last run has images 1 to ${lastRun.length}.`
            : "There is no image to reply to yet.",
        );
        continue;
      }
      request.replyTo = {
        messageId: target.messageId,
        attachments: [fileAttachment(target.path)],
        fromBot: true,
      };
    }
    const thread = new ConsoleThread(print, options.outDir, options.cwd, nextId);
    void options.handler.submit(request, thread).then(() => {
      if (thread.saved.length > 0) lastRun = thread.saved;
    });
  }
  // Leaving the loop closes readline but leaves a terminal's stdin flowing, which keeps the
  // process alive after `exit`.
  options.input.pause();
  // The core tracks every request in flight: wait until each one is answered.
  await options.handler.idle(PLATFORM);
}

export interface ConsoleLine {
  text: string;
  refs: string[];
  /** 1-based image number of the last run, from `reply N …`. */
  replyTo?: number;
  /** `again N`, `vary N`, `edit N <text>` (the text is the edit's prompt). */
  followUp?: { verb: "again" | "vary" | "edit"; image: number };
}

/** Pulls the console's own gestures (`reply N`, `--ref FILE`) out; the rest goes to the core as is. */
export function parseConsoleLine(line: string): ConsoleLine {
  const refs: string[] = [];
  let rest = line.replace(/(?:^|\s)--ref(?:=|\s+)("[^"]+"|\S+)/g, (_match, path: string) => {
    refs.push(path.replace(/^"|"$/g, ""));
    return " ";
  });
  let replyTo: number | undefined;
  const reply = rest.match(/^\s*reply\s+(\d+)\b/i);
  if (reply) {
    replyTo = Number(reply[1]);
    rest = rest.slice(reply[0].length);
  }
  let followUp: ConsoleLine["followUp"];
  const verb = rest.match(/^\s*(again|vary|edit)\s+(\d+)(?=\s|$)/i);
  if (verb && (verb[1]?.toLowerCase() === "edit" || rest.slice(verb[0].length).trim() === "")) {
    followUp = { verb: (verb[1] ?? "").toLowerCase() as "again" | "vary" | "edit", image: Number(verb[2]) };
    rest = rest.slice(verb[0].length);
  }
  return {
    text: rest.replace(/\s+/g, " ").trim(),
    refs,
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(followUp === undefined ? {} : { followUp }),
  };
}
