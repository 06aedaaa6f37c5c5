/**
 * The one status message of a request, kept up to date without holding up the images: the
 * first text is awaited (so the status sits above the first image), later ones replace whatever
 * is still waiting and go out one edit at a time in the background. discord.js queues edits that
 * hit Discord's rate limit itself; coalescing keeps a 15-image run from queueing 15 edits.
 * `flush()` waits until the newest text (the summary) is shown.
 */
export class StatusMessage {
  #pending: string | undefined;
  #draining: Promise<void> | undefined;
  #shown = false;

  constructor(
    /** Shows `text`: posts the message the first time, edits it afterwards. */
    private readonly show: (text: string) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  get shown(): boolean {
    return this.#shown;
  }

  set(text: string): Promise<void> {
    this.#pending = text;
    if (!this.#draining) {
      this.#draining = this.#drain().finally(() => {
        this.#draining = undefined;
      });
    }
    return this.#shown ? Promise.resolve() : this.#draining;
  }

  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#pending !== undefined) {
      const text = this.#pending;
      this.#pending = undefined;
      try {
        await this.show(text);
      } catch (error) {
        this.onError(error);
      }
      this.#shown = true;
    }
  }
}
