/**
 * A logger sink that keeps every line and lets a test await lines matching a pattern, so tests
 * prove something was logged without sleeping.
 */
export class RecordingLog {
  readonly lines: string[] = [];
  private waiters: Array<{ pattern: RegExp; count: number; resolve: () => void }> = [];

  write = (line: string): void => {
    this.lines.push(line);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.count(waiter.pattern) < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  /** Resolves once `count` lines match `pattern`; rejects with the log after `timeoutMs`. */
  waitFor(pattern: RegExp, count = 1, timeoutMs = 10_000): Promise<void> {
    if (this.count(pattern) >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `timed out waiting for ${count} log line(s) matching ${pattern}:\n${this.lines.join("\n")}`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      this.waiters.push({
        pattern,
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}
