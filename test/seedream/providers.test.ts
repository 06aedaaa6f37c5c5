import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { describe, expect, it } from "vitest";
import { PROVIDERS, resolveProvider } from "../../src/seedream/providers.js";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { API_KEY, clientFor, collect, useFakeSeedream } from "./helpers.js";

let fake: FakeSeedream;
useFakeSeedream((started) => {
  fake = started;
});

const refs = ["data:image/png;base64,AAAA", "https://example.com/b.jpeg"];

describe("provider profiles on the wire", () => {
  it.each([
    ["ark", `Bearer ${API_KEY}`, "image", "doubao-seedream-4-5-251128"],
    ["byteplus", `Bearer ${API_KEY}`, "image", "seedream-4-5-251128"],
    // Two of DMXAPI's three pages send Bearer; OpenAI-style gateways accept it (issue 10).
    ["dmxapi", `Bearer ${API_KEY}`, "image", "doubao-seedream-4-5-251128"],
    ["modelverse", `Bearer ${API_KEY}`, "images", "doubao-seedream-4.5"],
  ] as const)("%s sends %s, references in `%s`, model %s", async (provider, authorization, field, model) => {
    const client = clientFor(fake, { provider });
    await collect(client.generate({ prompt: "two refs", references: refs }));
    const request = fake.requests[0];
    expect(request?.headers.authorization).toBe(authorization);
    expect(request?.body?.[field]).toEqual(refs);
    expect(request?.body?.[field === "image" ? "images" : "image"]).toBeUndefined();
    expect(request?.body?.model).toBe(model);
    expect(client.describeModel()).toBe("Seedream 4.5");
  });

  it("SEEDREAM_AUTH_SCHEME overrides a profile's auth style either way", async () => {
    await collect(clientFor(fake, { provider: "dmxapi", authScheme: "raw" }).generate({ prompt: "raw" }));
    await collect(clientFor(fake, { provider: "ark", authScheme: "raw" }).generate({ prompt: "raw" }));
    await collect(clientFor(fake, { provider: "dmxapi", authScheme: "bearer" }).generate({ prompt: "b" }));
    expect(fake.requests.map((request) => request.headers.authorization)).toEqual([
      API_KEY,
      API_KEY,
      `Bearer ${API_KEY}`,
    ]);
  });

  it.each([
    ["ark", "5.0-pro", "doubao-seedream-5-0-pro-260628"],
    ["byteplus", "5.0-pro", "dola-seedream-5-0-pro-260628"],
    ["ark", "5.0-lite", "doubao-seedream-5-0-260128"],
    ["byteplus", "5.0", "seedream-5-0-260128"],
  ] as const)("%s --model %s sends %s", async (provider, alias, model) => {
    await collect(clientFor(fake, { provider }).generate({ prompt: "five", model: alias }));
    expect(fake.requests[0]?.body?.model).toBe(model);
  });

  it("sends a single reference as a string in `image` and as an array in `images`", async () => {
    await collect(
      clientFor(fake, { provider: "ark" }).generate({ prompt: "one", references: [refs[0] as string] }),
    );
    await collect(
      clientFor(fake, { provider: "modelverse" }).generate({
        prompt: "one",
        references: [refs[0] as string],
      }),
    );
    expect(fake.requests[0]?.body?.image).toBe(refs[0]);
    expect(fake.requests[1]?.body?.images).toEqual([refs[0]]);
  });

  it("always sends watermark explicitly; DMXAPI gets false whatever was asked", async () => {
    await collect(clientFor(fake, { provider: "ark" }).generate({ prompt: "w", watermark: true }));
    await collect(clientFor(fake, { provider: "ark" }).generate({ prompt: "w" }));
    await collect(clientFor(fake, { provider: "dmxapi" }).generate({ prompt: "w", watermark: true }));
    expect(fake.requests.map((request) => request.body?.watermark)).toEqual([true, false, false]);
  });

  it("sends fast prompt optimisation and a configured model", async () => {
    const client = clientFor(fake, { model: "doubao-seedream-4-0-250828" });
    await collect(client.generate({ prompt: "quick", fast: true, size: "1K" }));
    expect(fake.requests[0]?.body).toMatchObject({
      model: "doubao-seedream-4-0-250828",
      optimize_prompt_options: { mode: "fast" },
      size: "1K",
      sequential_image_generation: "disabled",
    });
  });

  it("lets SEEDREAM_BASE_URL override the profile's URL and keeps the default otherwise", () => {
    expect(resolveProvider("modelverse", "http://127.0.0.1:1/v1/").baseUrl).toBe("http://127.0.0.1:1/v1");
    expect(resolveProvider("byteplus").baseUrl).toBe("https://ark.ap-southeast.bytepluses.com/api/v3");
    expect(resolveProvider().baseUrl).toBe(PROVIDERS.ark.baseUrl);
  });
});

describe("HTTP plumbing", () => {
  it("never goes through the process-wide dispatcher (discord.js shares it)", async () => {
    let globalDispatches = 0;
    class CountingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        globalDispatches += 1;
        return super.dispatch(options, handler);
      }
    }
    const previous = getGlobalDispatcher();
    const counting = new CountingAgent();
    setGlobalDispatcher(counting);
    try {
      const client = clientFor(fake);
      const events = await collect(client.generate({ prompt: "own agent", responseFormat: "url" }));
      expect(events.map((event) => event.type)).toEqual(["image", "completed"]);
      await client.close();
    } finally {
      setGlobalDispatcher(previous);
      await counting.close();
    }
    expect(globalDispatches).toBe(0);
  });

  it("uses an injected dispatcher for every request, including image downloads", async () => {
    let dispatches = 0;
    class CountingAgent extends Agent {
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatches += 1;
        return super.dispatch(options, handler);
      }
    }
    const dispatcher = new CountingAgent();
    await collect(clientFor(fake, { dispatcher }).generate({ prompt: "injected", responseFormat: "url" }));
    await dispatcher.close();
    expect(dispatches).toBe(2);
  });
});
