/**
 * Output lines that a test can await one pattern at a time, so tests prove ordering ("this
 * line came before that image was sent") without sleeping. Shared by the in-process and the
 * child-process CLI runs.
 */
export interface LineWaiter {
  lines: string[];
  /** Feeds raw output; complete lines are recorded, a trailing partial line waits for the rest. */
  write(chunk: string): void;
  /** Resolves with the first line (seen so far or later) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function lineWaiter(describeFailure: () => string): LineWaiter {
  const lines: string[] = [];
  let partial = "";
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  return {
    lines,
    write(chunk) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    },
    waitForLine(pattern, timeoutMs = 20_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no line matching ${pattern} in:\n${lines.join("\n")}\n${describeFailure()}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}
