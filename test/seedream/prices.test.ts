import { describe, expect, it } from "vitest";
import { estimate, PRICE_TABLE, parsePrice, priceFor } from "../../src/seedream/prices.js";
import { PROVIDERS } from "../../src/seedream/providers.js";

describe("price table", () => {
  it("prices BytePlus images in USD as published, per model", () => {
    expect(priceFor("byteplus", "seedream-4-0-250828")).toEqual({ amount: 0.03, currency: "USD" });
    expect(priceFor("byteplus", "seedream-4-5-251128")).toEqual({ amount: 0.04, currency: "USD" });
    expect(priceFor("byteplus", "seedream-5-0-260128")).toEqual({ amount: 0.035, currency: "USD" });
  });

  it("bills Ark and its resellers in CNY", () => {
    expect(priceFor("ark", PROVIDERS.ark.modelIds["4.0"]).currency).toBe("CNY");
    expect(priceFor("modelverse", "doubao-seedream-4.5")).toEqual(
      priceFor("ark", "doubao-seedream-4-5-251128"),
    );
    expect(priceFor("dmxapi", undefined).currency).toBe("CNY");
  });

  it("prices an unknown model or endpoint id as the provider's default model", () => {
    expect(priceFor("ark", "ep-20260101-abcd")).toEqual(priceFor("ark", PROVIDERS.ark.defaultModel));
    expect(priceFor("byteplus", undefined)).toEqual({ amount: 0.04, currency: "USD" });
  });

  it("has a price for every model family of every provider", () => {
    for (const [provider, table] of Object.entries(PRICE_TABLE)) {
      for (const price of Object.values(table)) {
        expect(price.amount, provider).toBeGreaterThanOrEqual(0);
        expect(price.currency, provider).toMatch(/^[A-Z]{3}$/);
      }
    }
  });

  it("estimates price × images, the override winning, without float dust", () => {
    expect(estimate("byteplus", "seedream-4-0-250828", 3)).toEqual({ amount: 0.09, currency: "USD" });
    expect(estimate("ark", undefined, 4, { amount: 0.1, currency: "EUR" })).toEqual({
      amount: 0.4,
      currency: "EUR",
    });
    expect(estimate("demo", undefined, 10).amount).toBe(0);
  });

  it.each([
    ["0.04 USD", { amount: 0.04, currency: "USD" }],
    ["USD 0.04", { amount: 0.04, currency: "USD" }],
    [" 0.25cny ", { amount: 0.25, currency: "CNY" }],
    ["1 EUR", { amount: 1, currency: "EUR" }],
  ])("parses SEEDREAM_PRICE_PER_IMAGE=%s", (text, price) => {
    expect(parsePrice(text)).toEqual(price);
  });

  it.each(["0.04", "USD", "-1 USD", "0.04 dollars", "1e3 USD", ""])("refuses %o", (text) => {
    expect(parsePrice(text)).toBeUndefined();
  });
});
