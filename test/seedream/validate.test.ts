import { describe, expect, it } from "vitest";
import { SeedreamValidationError } from "../../src/seedream/errors.js";
import { describeModel, modelCapabilities } from "../../src/seedream/models.js";
import type { GenerateRequest } from "../../src/seedream/types.js";
import { parseSize, validateRequest } from "../../src/seedream/validate.js";

const ref = "data:image/png;base64,iVBORw0KGgo=";

function messageFor(model: string, request: Partial<GenerateRequest>): string {
  try {
    validateRequest({ prompt: "a red fox", ...request }, modelCapabilities(model));
  } catch (error) {
    expect(error).toBeInstanceOf(SeedreamValidationError);
    const failure = error as SeedreamValidationError;
    expect(failure.code).toBe("validation");
    expect(failure.userMessage).toBe(failure.message);
    return failure.message;
  }
  throw new Error("expected the request to be rejected");
}

const accepts = (model: string, request: Partial<GenerateRequest>) => () =>
  validateRequest({ prompt: "a red fox", ...request }, modelCapabilities(model));

describe("model capability table", () => {
  it.each([
    ["doubao-seedream-4-5-251128", "Seedream 4.5"],
    ["seedream-4-5-251128", "Seedream 4.5"],
    ["doubao-seedream-4.5", "Seedream 4.5"],
    ["doubao-seedream-4-0-250828", "Seedream 4.0"],
    ["doubao-seedream-5-0-260128", "Seedream 5.0 lite"],
    ["doubao-seedream-3-0-t2i-250415", "Seedream 3.0"],
    ["doubao-seededit-3-0-i2i-250628", "SeedEdit 3.0"],
    ["ep-20250101-seedream-4-5", "ep-20250101-seedream-4-5"],
    ["some-future-model", "some-future-model"],
  ])("%s is %s", (id, name) => {
    expect(describeModel(id)).toBe(name);
  });

  it("treats Ark endpoint ids as unknown and permissive", () => {
    const caps = modelCapabilities("ep-20250101123456-abcde");
    expect(caps.family).toBe("unknown");
    expect(accepts("ep-20250101123456-abcde", { size: "1K", maxImages: 4, references: [ref] })).not.toThrow();
  });
});

describe("validation before any network call", () => {
  it("explains a size below the model's minimum and suggests a tier", () => {
    expect(messageFor("doubao-seedream-4-5-251128", { size: "1024x1024" })).toBe(
      "Seedream 4.5 needs at least 2560x1440 pixels; try --size 2K.",
    );
  });

  it("rejects a tier the model does not offer", () => {
    expect(messageFor("doubao-seedream-4-5-251128", { size: "1K" })).toBe(
      "Seedream 4.5 has no 1K size; use 2K or 4K or WIDTHxHEIGHT such as 2048x2048.",
    );
  });

  it("rejects sizes above the maximum, extreme aspect ratios, mixed and unreadable sizes", () => {
    expect(messageFor("doubao-seedream-4-0-250828", { size: "5000x5000" })).toBe(
      "Seedream 4.0 allows at most 4096x4096 pixels; try --size 4K.",
    );
    expect(messageFor("doubao-seedream-4-0-250828", { size: "8000x400" })).toMatch(/too wide.*16 times/);
    expect(messageFor("doubao-seedream-4-0-250828", { size: "2Kx1440" })).toMatch(
      /either a tier like 2K or pixels/,
    );
    expect(messageFor("doubao-seedream-4-0-250828", { size: "huge" })).toBe(
      '"huge" is not a size Seedream 4.0 understands; use 1K, 2K or 4K or WIDTHxHEIGHT such as 2048x2048.',
    );
  });

  it("accepts recommended sizes, lower-case tiers and the × separator", () => {
    expect(accepts("doubao-seedream-4-5-251128", { size: "2560x1440" })).not.toThrow();
    expect(accepts("doubao-seedream-4-5-251128", { size: "2k" })).not.toThrow();
    expect(accepts("doubao-seedream-4-5-251128", { size: "3024×1296" })).not.toThrow();
    expect(parseSize("2k")).toEqual({ kind: "tier", tier: "2K" });
  });

  it("counts references against the model's limit", () => {
    const refs = Array.from({ length: 15 }, () => ref);
    expect(messageFor("doubao-seedream-4-5-251128", { references: refs })).toBe(
      "Seedream 4.5 accepts at most 14 reference images; you gave 15.",
    );
    expect(messageFor("doubao-seedream-3-0-t2i-250415", { references: [ref] })).toMatch(
      /^Seedream 3\.0 does not take reference images/,
    );
    expect(messageFor("doubao-seededit-3-0-i2i-250628", {})).toBe(
      "SeedEdit 3.0 edits an image: attach exactly one reference image.",
    );
  });

  it("keeps references plus generated images within 15", () => {
    const refs = Array.from({ length: 10 }, () => ref);
    expect(messageFor("doubao-seedream-4-5-251128", { references: refs, maxImages: 6 })).toBe(
      "Seedream allows at most 15 images per request counting references: with 10 references ask for at most 5 images.",
    );
    expect(accepts("doubao-seedream-4-5-251128", { references: refs, maxImages: 5 })).not.toThrow();
  });

  it("refuses a seed or guidance scale on a 4.x model but takes them on 3.0", () => {
    expect(messageFor("doubao-seedream-4-5-251128", { seed: 42 })).toBe(
      "Seedream 4.5 does not take a seed; only Seedream 3.0 and SeedEdit 3.0 do.",
    );
    expect(messageFor("doubao-seedream-4-0-250828", { guidanceScale: 3 })).toMatch(
      /^Seedream 4\.0 does not take a guidance/,
    );
    expect(accepts("doubao-seedream-3-0-t2i-250415", { seed: 42, guidanceScale: 2.5 })).not.toThrow();
    expect(messageFor("doubao-seedream-3-0-t2i-250415", { guidanceScale: 11 })).toMatch(/between 1 and 10/);
  });

  it("refuses groups on single-image models and bad image counts", () => {
    expect(messageFor("doubao-seedream-3-0-t2i-250415", { maxImages: 2 })).toBe(
      "Seedream 3.0 makes one image per request; ask for 1 image.",
    );
    expect(messageFor("doubao-seedream-4-5-251128", { maxImages: 16 })).toMatch(/from 1 to 15/);
  });

  it("refuses an empty prompt, a reference that is neither URL nor data URI, and fast mode off 4.0", () => {
    expect(messageFor("doubao-seedream-4-5-251128", { prompt: "  " })).toMatch(/Write a prompt/);
    expect(messageFor("doubao-seedream-4-5-251128", { references: ["/tmp/cat.png"] })).toMatch(
      /Reference image 1/,
    );
    expect(messageFor("doubao-seedream-4-5-251128", { fast: true })).toMatch(
      /only available on Seedream 4\.0/,
    );
    expect(accepts("doubao-seedream-4-0-250828", { fast: true })).not.toThrow();
  });
});
