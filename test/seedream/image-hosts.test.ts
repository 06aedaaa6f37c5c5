import { describe, expect, it } from "vitest";
import { refuseImageUrl } from "../../src/seedream/image-hosts.js";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { clientFor, collect, useFakeSeedream } from "./helpers.js";

/** Issue 9.3: `response_format: url` downloads only from the provider's image hosts, capped. */

let fake: FakeSeedream;
useFakeSeedream((started) => {
  fake = started;
});

describe("image URLs from the API", () => {
  it("are not fetched from a host outside the provider's list: that slot fails, nothing is downloaded", async () => {
    const client = clientFor(fake, { imageHosts: [] });
    const events = await collect(client.generate({ prompt: "urls", maxImages: 2, responseFormat: "url" }));
    expect(events.map((event) => event.type)).toEqual(["image_failed", "image_failed", "completed"]);
    expect(events[0]).toMatchObject({
      code: "ImageDownloadFailed",
      message: expect.stringContaining("127.0.0.1 is not one of the provider's image hosts"),
    });
    expect(fake.downloads).toEqual([]);
  });

  it("are fetched from SEEDREAM_IMAGE_HOSTS, and refused past the size cap", async () => {
    const allowed = await collect(clientFor(fake).generate({ prompt: "ok", responseFormat: "url" }));
    expect(allowed[0]).toMatchObject({ type: "image" });
    const capped = await collect(
      clientFor(fake, { maxImageBytes: 100 }).generate({ prompt: "big", responseFormat: "url" }),
    );
    expect(capped[0]).toMatchObject({
      type: "image_failed",
      message: expect.stringContaining("larger than 100 bytes"),
    });
  });

  it("match each provider's hosts over https only", () => {
    const ark = { provider: [".volces.com"], operator: [] };
    const tos =
      "https://ark-content-generation-v2-cn-beijing.tos-cn-beijing.volces.com/doubao-seedream-4-0/x_0.jpeg?X-Tos-Expires=86400";
    expect(refuseImageUrl(tos, ark)).toBeUndefined();
    expect(refuseImageUrl(tos.replace("https:", "http:"), ark)).toMatch(/not https/);
    expect(refuseImageUrl("https://volces.com.evil.example/x.jpeg", ark)).toMatch(/not one of/);
    expect(refuseImageUrl("http://169.254.169.254/latest/meta-data", ark)).toMatch(/not one of/);
    expect(
      refuseImageUrl("https://cdn.gateway.example/x.png", {
        provider: [],
        operator: ["cdn.gateway.example"],
      }),
    ).toBeUndefined();
  });
});
