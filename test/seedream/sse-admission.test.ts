import { describe, expect, it } from "vitest";
import { DecodeSlots } from "../../src/core/decode-slots.js";
import { decodeSse } from "../../src/seedream/sse.js";

/**
 * decodeSse's admission (issue 15, goal 5): a big event waits for `admit` before more of it is
 * read, and holds what it was admitted until the caller asks for the next event, so a process
 * bounds the images it holds across all its streams.
 */

const BIG = "A".repeat(1000);

/** A stream whose chunks are handed out one by one as the test allows, recording what was read. */
function gatedStream(parts: string[]): { chunks: AsyncIterable<string>; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    chunks: (async function* () {
      for (const part of parts) {
        read++;
        yield part;
      }
    })(),
  };
}

const imageEvent = (index: number) => [`data: {"i":${index},"b64":"`, BIG, BIG, `"}\n\n`];

describe("decodeSse admission of big events", () => {
  it("reads no more of a big event until admitted, and frees it when the next event is asked for", async () => {
    const slots = new DecodeSlots(1);
    const log: string[] = [];
    const admit = async () => {
      log.push("admit?");
      const release = await slots.acquire();
      log.push("admitted");
      return () => {
        log.push("released");
        release();
      };
    };
    // Another stream holds the only slot.
    const other = await slots.acquire();
    const stream = gatedStream([...imageEvent(0), 'data: {"small":1}\n\n', ...imageEvent(1)]);
    const messages = decodeSse(stream.chunks, { admit, admitAfterBytes: 500 })[Symbol.asyncIterator]();
    const first = messages.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Two chunks read (the event's start and its first 1000 chars), then it waits for the slot.
    expect(stream.read()).toBe(2);
    expect(log).toEqual(["admit?"]);
    other();
    const image = await first;
    expect(image.value?.data.startsWith('{"i":0')).toBe(true);
    // Still held while the caller handles the image.
    expect(log).toEqual(["admit?", "admitted"]);
    expect(slots.queued).toBe(0);
    const small = await messages.next();
    expect(small.value?.data).toBe('{"small":1}');
    // Asking for the next event freed it; the small event took none.
    expect(log).toEqual(["admit?", "admitted", "released"]);
    const second = await messages.next();
    expect(second.value?.data.startsWith('{"i":1')).toBe(true);
    expect(log).toEqual(["admit?", "admitted", "released", "admit?", "admitted"]);
    expect((await messages.next()).done).toBe(true);
    expect(log.at(-1)).toBe("released");
  });

  it("frees the admission when the caller stops mid-stream (a cancelled run)", async () => {
    const slots = new DecodeSlots(1);
    const stream = gatedStream([...imageEvent(0), ...imageEvent(1)]);
    for await (const message of decodeSse(stream.chunks, {
      admit: () => slots.acquire(),
      admitAfterBytes: 500,
    })) {
      expect(message.data.startsWith('{"i":0')).toBe(true);
      break;
    }
    // The slot is free again: another stream gets it at once.
    const release = await Promise.race([
      slots.acquire(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("slot still held")), 200)),
    ]);
    release();
  });

  it("admits nothing for streams of small events", async () => {
    let admitted = 0;
    const admit = async () => {
      admitted++;
      return () => {};
    };
    const parts = ['data: {"a":1}\n\n', 'data: {"b":2}\n\n', "data: [DONE]\n\n"];
    const seen: string[] = [];
    for await (const message of decodeSse(gatedStream(parts).chunks, { admit })) seen.push(message.data);
    expect(seen).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    expect(admitted).toBe(0);
  });
});

describe("decode slots' acquire", () => {
  it("frees a slot once however often its release is called", async () => {
    const slots = new DecodeSlots(1);
    const release = await slots.acquire();
    release();
    release();
    const a = await slots.acquire();
    let second = false;
    const b = slots.acquire().then((r) => {
      second = true;
      return r;
    });
    await new Promise((resolve) => setImmediate(resolve));
    // A double release would have let the second caller in.
    expect(second).toBe(false);
    a();
    (await b)();
  });
});
