import { describe, expect, it } from "vitest";
import { BadCommandError } from "../../src/core/errors.js";
import { type GenerationParams, type ParseOptions, parseCommand } from "../../src/core/grammar.js";
import { USAGE } from "../../src/core/usage.js";

const options: ParseOptions = { defaults: { size: undefined, watermark: false, maxImages: 15 } };

function params(text: string, extra: Partial<ParseOptions> = {}): GenerationParams {
  const command = parseCommand(text, { ...options, ...extra });
  if (command.kind !== "generate") throw new Error(`expected a generation, got ${command.kind}`);
  return command.params;
}

function badReason(text: string, extra: Partial<ParseOptions> = {}): string {
  try {
    parseCommand(text, { ...options, ...extra });
  } catch (error) {
    expect(error).toBeInstanceOf(BadCommandError);
    const bad = error as BadCommandError;
    expect(bad.code).toBe("bad_command");
    expect(bad.userMessage).toBe(`${bad.reason}\n${USAGE}`);
    expect(bad.reason).not.toContain("\n");
    return bad.reason;
  }
  throw new Error(`"${text}" parsed without error`);
}

describe("grammar: commands", () => {
  it("answers help for help words and an empty message", () => {
    for (const text of ["help", " HELP ", "--help", "帮助", ""])
      expect(parseCommand(text, options)).toEqual({ kind: "help" });
  });

  it("treats a prompt that starts with 'help' as a prompt", () => {
    expect(params("help me draw a cat").prompt).toBe("help me draw a cat");
  });

  it("recognises cancel", () => {
    expect(parseCommand("cancel", options)).toEqual({ kind: "cancel" });
    expect(parseCommand("取消", options)).toEqual({ kind: "cancel" });
  });

  it("applies the configured defaults", () => {
    expect(params("a red fox")).toEqual({
      prompt: "a red fox",
      n: 1,
      watermark: false,
      fast: false,
      web: false,
      picks: [],
    });
    const withDefaults = params("a red fox", { defaults: { size: "4K", watermark: true, maxImages: 15 } });
    expect(withDefaults.size).toBe("4K");
    expect(withDefaults.watermark).toBe(true);
  });
});

describe("grammar: flags", () => {
  it("reads every flag, anywhere in the text", () => {
    const parsed = params(
      "a cat --n 4 on a sofa --size 2k --model 4.0 --seed 42 --watermark --fast --format PNG --web at dusk",
    );
    expect(parsed).toEqual({
      prompt: "a cat on a sofa at dusk",
      n: 4,
      size: "2K",
      model: "4.0",
      seed: 42,
      watermark: true,
      fast: true,
      format: "png",
      web: true,
      picks: [],
    });
  });

  it("accepts --flag=value", () => {
    const parsed = params("--n=3 --size=2048x1536 --model=4.5 a lighthouse");
    expect(parsed).toMatchObject({ prompt: "a lighthouse", n: 3, size: "2048x1536", model: "4.5" });
  });

  it("accepts the dashes Slack and macOS substitute for --", () => {
    expect(params("a lighthouse —n 2 –size 4K")).toMatchObject({ prompt: "a lighthouse", n: 2, size: "4K" });
    expect(
      params("a lighthouse —no-watermark", { defaults: { size: undefined, watermark: true, maxImages: 15 } })
        .watermark,
    ).toBe(false);
    expect(params("灯塔 ——n 3").n).toBe(3);
  });

  it("keeps a typographic dash before an ordinary word as prose", () => {
    expect(params("a quiet street —almost empty").prompt).toBe("a quiet street —almost empty");
  });

  it("normalises pixel sizes written with × or full-width digits", () => {
    expect(params("a map --size 2048×1536").size).toBe("2048x1536");
    expect(params("a map --size ２０４８x２０４８").size).toBe("2048x2048");
  });

  it("reads --ar as a ratio (the model turns it into its size), with a full-width colon too", () => {
    expect(params("a beach --ar 16:9")).toMatchObject({ ar: { width: 16, height: 9 } });
    expect(params("a beach --ar 16：9 --size 1k")).toMatchObject({
      ar: { width: 16, height: 9 },
      size: "1K",
    });
    expect(params("a beach --ar 2.39:1").ar).toEqual({ width: 2.39, height: 1 });
    expect(
      params("a beach --ar 16:9", { defaults: { size: "4K", watermark: false, maxImages: 15 } }).size,
    ).toBe(undefined);
  });

  it("passes --model through as typed", () => {
    expect(params("x --model 4").model).toBe("4");
    expect(params("x --model v4.5").model).toBe("v4.5");
    expect(params("x --model ep-20250101-abc").model).toBe("ep-20250101-abc");
    expect(params("x --model doubao-seedream-4-5-251128").model).toBe("doubao-seedream-4-5-251128");
  });

  it("accepts --seed -1 and the largest seed", () => {
    expect(params("x --seed -1").seed).toBe(-1);
    expect(params("x --seed 2147483647").seed).toBe(2147483647);
  });
});

describe("grammar: bad flags", () => {
  it("names what is wrong in one line", () => {
    expect(badReason("a cat --n 0")).toContain("--n must be a whole number from 1 to 15");
    expect(badReason("a cat --n 16")).toContain('(got "16")');
    expect(badReason("a cat --n two")).toContain('(got "two")');
    expect(
      badReason("a cat --n 5", { defaults: { size: undefined, watermark: false, maxImages: 4 } }),
    ).toContain("from 1 to 4");
    expect(badReason("a cat --size 5K")).toContain('"5K" is not a size');
    expect(badReason("a cat --size 2Kx2K")).toContain("is not a size");
    expect(badReason("a cat --ar wide")).toContain("is not an aspect ratio");
    expect(badReason("a cat --format gif")).toBe('--format is png or jpeg (got "gif").');
    expect(badReason("a cat --seed 1.5")).toContain("--seed must be a whole number");
    expect(badReason("a cat --seed 2147483648")).toContain("--seed must be");
    expect(badReason("a cat --seed -2")).toContain("--seed must be");
    expect(badReason("a cat --colour red")).toBe('Unknown option "--colour".');
    expect(badReason("a cat --n")).toBe("--n needs a value.");
    expect(badReason("a cat --n --fast")).toBe("--n needs a value.");
    expect(badReason("a cat --n 2 --n 3")).toBe("--n is given twice.");
    expect(badReason("a cat --watermark --no-watermark")).toContain("not both");
    expect(badReason("a cat --fast=yes")).toBe("--fast takes no value.");
    expect(badReason("--n 2 --fast")).toContain("Write a prompt");
  });
});

describe("grammar: Chinese prompts", () => {
  it("keeps Chinese text, punctuation and full-width spaces untouched", () => {
    const text = "一只橘猫，坐在窗台上　看雨。「安静」 --n 2 --ar 3:4";
    const parsed = params(text);
    expect(parsed.prompt).toBe("一只橘猫，坐在窗台上　看雨。「安静」");
    expect(parsed.n).toBe(2);
    expect(parsed.ar).toEqual({ width: 3, height: 4 });
  });

  it("removes a flag between Chinese words and keeps the separator that follows it", () => {
    expect(params("水墨山水　--size 2K　远处有船").prompt).toBe("水墨山水　远处有船");
  });

  it("keeps the prompt's line breaks", () => {
    expect(params("line one\nline two --n 2").prompt).toBe("line one\nline two");
  });
});

describe("grammar: #N picks", () => {
  it("reads #N only in a reply", () => {
    expect(params("make it blue #2", { allowPicks: true })).toMatchObject({
      prompt: "make it blue",
      picks: [2],
    });
    expect(params("＃３ 换成蓝色", { allowPicks: true })).toMatchObject({ prompt: "换成蓝色", picks: [3] });
    expect(params("a sign saying #1")).toMatchObject({ prompt: "a sign saying #1", picks: [] });
  });

  it("keeps several picks in written order without duplicates", () => {
    expect(params("#3 #1 #3 combine these", { allowPicks: true }).picks).toEqual([3, 1]);
  });

  it("refuses #0", () => {
    expect(badReason("#0 make it blue", { allowPicks: true })).toContain("count from #1");
  });
});

describe("grammar: prompt length (MAX_PROMPT_CHARS)", () => {
  const limited: Partial<ParseOptions> = { defaults: { ...options.defaults, maxPromptChars: 10 } };

  it("takes a prompt at the limit, counting characters rather than UTF-16 units, flags not counted", () => {
    expect(params("一只狐狸在雪地🦊🦊🦊 --n 2", limited).prompt).toBe("一只狐狸在雪地🦊🦊🦊");
  });

  it("refuses a longer prompt with a sentence that says the limit", () => {
    expect(badReason("a red fox in the snow", limited)).toBe(
      "Your prompt is 21 characters long; the limit here is 10. Shorten it and try again (Seedream follows a short, concrete prompt best).",
    );
  });
});
