import { mkdir, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import type { ImageKey, ImagePost, OutputThread, PostedImage } from "../../src/core/ports.js";

export interface SavedImage {
  messageId: string;
  /** Its run and index: what `again N`, `vary N`, `edit N` name. */
  key: ImageKey;
  path: string;
  caption: string;
}

/**
 * The console's "thread": text goes to the terminal, images go to files under `outDir` the
 * moment the core posts them, and each path is printed so the user can open it.
 */
export class ConsoleThread implements OutputThread {
  readonly saved: SavedImage[] = [];
  private lastStatus = "";

  constructor(
    private readonly print: (line: string) => void,
    private readonly outDir: string,
    private readonly cwd: string,
    private readonly nextId: () => string,
  ) {}

  async postText(text: string): Promise<void> {
    this.print(text);
  }

  async postImage(image: ImagePost): Promise<PostedImage> {
    await mkdir(this.outDir, { recursive: true });
    const messageId = this.nextId();
    // The core's file name already carries the run id and position, so it is unique per image.
    const path = join(this.outDir, image.fileName);
    await writeFile(path, image.bytes);
    this.saved.push({ messageId, key: image.key, path, caption: image.caption });
    const shown = relative(this.cwd, path);
    this.print(`image ${image.caption} saved ${shown.startsWith("..") || isAbsolute(shown) ? path : shown}`);
    return { messageId, ref: path };
  }

  async updateStatus(text: string): Promise<void> {
    // The terminal cannot edit a line above the prompt, so print each distinct status once.
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.print(`status: ${text}`);
  }
}
