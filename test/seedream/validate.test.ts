import { describe, expect, it } from "vitest";
import { errorSentence } from "../../src/core/messages.js";
import { SeedreamValidationError } from "../../src/seedream/errors.js";
import { describeModel, modelCapabilities, readModelName } from "../../src/seedream/models.js";
import { resolveProvider } from "../../src/seedream/providers.js";
import type { GenerateRequest } from "../../src/seedream/types.js";
import { parseSize, prepareRequest, validateRequest } from "../../src/seedream/validate.js";

const ref = "data:image/png;base64,iVBORw0KGgo=";

function messageFor(model: string, request: Partial<GenerateRequest>): string {
  try {
    validateRequest({ prompt: "a red fox", ...request }, modelCapabilities(model));
  } catch (error) {
    expect(error).toBeInstanceOf(SeedreamValidationError);
    const failure = error as SeedreamValidationError;
    expect(failure.code).toBe("validation");
    // Neutral for logs; the sentence a person reads is the core's, from the issue.
    expect(failure.message).toContain(failure.issue.kind);
    return errorSentence(failure);
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
      "Seedream 4.5 takes at most 14 reference images and this request has 15: attach fewer images.",
    );
    expect(messageFor("doubao-seedream-3-0-t2i-250415", { references: [ref] })).toMatch(
      /^Seedream 3\.0 doesn't take reference images/,
    );
    expect(messageFor("doubao-seededit-3-0-i2i-250628", {})).toBe(
      "SeedEdit 3.0 edits an existing image: attach one, or reply to one, and try again.",
    );
  });

  it("keeps references plus generated images within 15", () => {
    const refs = Array.from({ length: 10 }, () => ref);
    expect(messageFor("doubao-seedream-4-5-251128", { references: refs, maxImages: 6 })).toBe(
      "10 reference images plus 6 new images is more than the 15 a request may have: use --n 5 or attach fewer images.",
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

  it("takes --n on single-image models (one request each) and refuses bad image counts", () => {
    expect(accepts("doubao-seedream-3-0-t2i-250415", { maxImages: 2 })).not.toThrow();
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

const caps45 = modelCapabilities("doubao-seedream-4-5-251128");
const ratio = (text: string) => {
  const [width, height] = text.split(/[:：]/).map(Number) as [number, number];
  return { width, height };
};
const sizeFor = (ar: string, size?: string, caps = caps45) =>
  validateRequest({ prompt: "a beach", aspectRatio: ratio(ar), ...(size ? { size } : {}) }, caps).size;

describe("--ar becomes the model's own size for the ratio", () => {
  it("maps --ar to the recommended 4.x size", () => {
    const cases: Record<string, string> = {
      "1:1": "2048x2048",
      "4:3": "2304x1728",
      "3:4": "1728x2304",
      "16:9": "2560x1440",
      "9:16": "1440x2560",
      "3:2": "2496x1664",
      "2:3": "1664x2496",
      "21:9": "3024x1296",
      "32:18": "2560x1440",
    };
    for (const [text, size] of Object.entries(cases)) expect(sizeFor(text)).toBe(size);
  });

  it("computes other ratios within the 4.x pixel limits", () => {
    for (const text of ["5:4", "2.39:1", "1:8", "16:1"]) {
      const [width, height] = (sizeFor(text) ?? "").split("x").map(Number) as [number, number];
      const [rw, rh] = text.split(":").map(Number) as [number, number];
      expect(width * height).toBeGreaterThanOrEqual(2560 * 1440);
      expect(width * height).toBeLessThanOrEqual(4096 * 4096);
      expect(Math.abs(width / height - rw / rh) / (rw / rh)).toBeLessThan(0.05);
    }
  });

  it("scales --ar to a tier given with --size", () => {
    expect(sizeFor("16:9", "4K")).toBe("5120x2880");
    expect(sizeFor("16:9", "1K", modelCapabilities("doubao-seedream-4-0-250828"))).toBe("1280x720");
  });

  it("refuses an extreme ratio, a ratio with a pixel size, and a stretched pixel size", () => {
    expect(messageFor("doubao-seedream-4-5-251128", { aspectRatio: ratio("20:1") })).toContain("too extreme");
    expect(
      messageFor("doubao-seedream-4-5-251128", { aspectRatio: ratio("16:9"), size: "2048x2048" }),
    ).toContain("not both");
    expect(messageFor("doubao-seedream-4-5-251128", { size: "8192x256" })).toContain("too wide");
  });
});

describe("--model versions", () => {
  const ark = { provider: resolveProvider("ark"), defaultModel: "doubao-seedream-4-5-251128" };
  it("turns version numbers into the provider's ids and passes ids through", () => {
    const model = (typed: string) => prepareRequest({ prompt: "x", model: typed }, ark).model;
    expect(model("4")).toBe("doubao-seedream-4-0-250828");
    expect(model("v4.5")).toBe("doubao-seedream-4-5-251128");
    expect(model("5.0")).toBe("doubao-seedream-5-0-260128");
    expect(model("ep-20250101-abc")).toBe("ep-20250101-abc");
    expect(model("doubao-seedream-4-5-251128")).toBe("doubao-seedream-4-5-251128");
    expect(readModelName("4")).toEqual({ kind: "alias", alias: "4.0" });
  });

  it("names a version that does not exist", () => {
    const error = (() => {
      try {
        prepareRequest({ prompt: "x", model: "4.7" }, ark);
      } catch (caught) {
        return caught;
      }
    })();
    expect(errorSentence(error)).toContain("There is no Seedream 4.7");
  });
});
