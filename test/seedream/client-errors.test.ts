import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { errorSentence } from "../../src/core/messages.js";
import {
  SeedreamAccountError,
  SeedreamAuthError,
  SeedreamError,
  SeedreamInvalidParameterError,
  SeedreamModelUnavailableError,
  SeedreamModerationError,
  SeedreamRateLimitError,
  SeedreamServerError,
  SeedreamTimeoutError,
} from "../../src/seedream/errors.js";
import type { FakeSeedream } from "../fakes/seedream-server.js";
import { API_KEY, caught, clientFor, collect, useFakeSeedream } from "./helpers.js";

let fake: FakeSeedream;
useFakeSeedream((started) => {
  fake = started;
});

async function failureFor(status: number, code: string, extra: { message?: string; param?: string } = {}) {
  fake.setScenario({ error: { status, code, ...extra } });
  const error = await caught(collect(clientFor(fake).generate({ prompt: "p" })));
  expect(error).toBeInstanceOf(SeedreamError);
  return error as SeedreamError;
}

describe("API errors map to one class and one sentence each", () => {
  it.each([
    [
      400,
      "InputTextSensitiveContentDetected",
      SeedreamModerationError,
      "moderation_prompt",
      "Seedream's content filter blocked the prompt; try rewording it",
    ],
    [
      400,
      "InputImageSensitiveContentDetected.PolicyViolation",
      SeedreamModerationError,
      "moderation_reference",
      "Seedream's content filter blocked a reference image as a likely copyright or policy violation; try a different image",
    ],
    [
      400,
      "OutputImageSensitiveContentDetected",
      SeedreamModerationError,
      "moderation_output",
      "Seedream's content filter blocked the generated image; try a different prompt",
    ],
    [
      400,
      "SensitiveContentDetected.SevereViolation",
      SeedreamModerationError,
      "moderation",
      "Seedream's content filter blocked this request as a severe violation; try a different prompt",
    ],
    [
      400,
      "InputTextRiskDetection",
      SeedreamModerationError,
      "moderation",
      "Seedream's content filter blocked this request; try a different prompt",
    ],
    [
      400,
      "sensitive_check_error",
      SeedreamModerationError,
      "moderation",
      "Seedream's content filter blocked this request; try a different prompt",
    ],
    [
      400,
      "MissingParameter",
      SeedreamInvalidParameterError,
      "invalid_parameter",
      "Seedream rejected the request as invalid",
    ],
    [
      400,
      "InvalidImageURL.EmptyURI",
      SeedreamInvalidParameterError,
      "invalid_parameter",
      "Seedream rejected the request as invalid",
    ],
    [
      400,
      "param_error",
      SeedreamInvalidParameterError,
      "invalid_parameter",
      "Seedream rejected the request as invalid",
    ],
    [
      401,
      "AuthenticationError",
      SeedreamAuthError,
      "auth",
      "Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY",
    ],
    [
      401,
      "auth_error",
      SeedreamAuthError,
      "auth",
      "Seedream rejected the bot's API key; an admin needs to check SEEDREAM_API_KEY",
    ],
    [
      403,
      "AccountOverdueError",
      SeedreamAccountError,
      "account_overdue",
      "The bot's Seedream account is out of credit; an admin must top it up in the provider's console",
    ],
    [
      403,
      "OperationDenied.ServiceNotOpen",
      SeedreamAccountError,
      "account",
      "Seedream refused the request because of the bot's account (billing or access); an admin needs to check it",
    ],
    [
      404,
      "InvalidEndpointOrModel.NotFound",
      SeedreamModelUnavailableError,
      "model_not_enabled",
      "The model doubao-seedream-4-5-251128 is not enabled on the bot's Seedream account: an admin can enable it in the provider's console or set SEEDREAM_MODEL to one that is; meanwhile try --model with another version (3.0, 4.0, 4.5, 5.0, 5.0-lite, 5.0-pro)",
    ],
    [
      404,
      "ModelNotOpen",
      SeedreamModelUnavailableError,
      "model_not_enabled",
      "The model doubao-seedream-4-5-251128 is not enabled on the bot's Seedream account: an admin can enable it in the provider's console or set SEEDREAM_MODEL to one that is; meanwhile try --model with another version (3.0, 4.0, 4.5, 5.0, 5.0-lite, 5.0-pro)",
    ],
    [
      429,
      "RateLimitExceeded.EndpointIPM",
      SeedreamRateLimitError,
      "rate_limited",
      "Seedream is busy right now (rate limit reached); please try again in a minute",
    ],
    [
      429,
      "ModelIPMRateLimitExceeded",
      SeedreamRateLimitError,
      "rate_limited",
      "Seedream is busy right now (rate limit reached); please try again in a minute",
    ],
    [
      429,
      "ServerOverloaded",
      SeedreamRateLimitError,
      "rate_limited",
      "Seedream is busy right now (rate limit reached); please try again in a minute",
    ],
    [
      429,
      "rate_limit",
      SeedreamRateLimitError,
      "rate_limited",
      "Seedream is busy right now (rate limit reached); please try again in a minute",
    ],
    [
      500,
      "InternalServiceError",
      SeedreamServerError,
      "server",
      "Seedream had an internal error; please try again",
    ],
    [
      500,
      "internal_error",
      SeedreamServerError,
      "server",
      "Seedream had an internal error; please try again",
    ],
    [
      504,
      "gateway_timeout_error",
      SeedreamTimeoutError,
      "timeout",
      "Seedream took too long to answer; please try again, perhaps with fewer images",
    ],
  ] as const)("HTTP %i %s", async (status, apiCode, errorClass, code, sentence) => {
    const error = await failureFor(status, apiCode);
    expect(error).toBeInstanceOf(errorClass);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.apiCode).toBe(apiCode);
    expect(error.requestId).toBe("0217fake00000000");
    expect(errorSentence(error)).toBe(`${sentence} (request id 0217fake00000000).`);
  });

  it("takes the request id from the end of the message when there is no X-Request-Id header", async () => {
    fake.setScenario({
      error: { status: 400, code: "InputTextSensitiveContentDetected", requestIdHeader: false },
    });
    const error = (await caught(collect(clientFor(fake).generate({ prompt: "p" })))) as SeedreamError;
    expect(error.requestId).toBe("0217fake00000000");
  });

  it("maps an unknown code by HTTP status, and a non-JSON gateway page to a server error", async () => {
    expect((await failureFor(403, "SomethingNew")).code).toBe("account");
    fake.setScenario({
      raw: { status: 502, headers: { "content-type": "text/html" }, chunks: ["<html>Bad gateway</html>"] },
    });
    const error = (await caught(collect(clientFor(fake).generate({ prompt: "p" })))) as SeedreamError;
    expect(error).toBeInstanceOf(SeedreamServerError);
    expect(errorSentence(error)).toBe("Seedream had an internal error; please try again.");
  });

  it("treats an error envelope sent with HTTP 200 on a stream request as that error", async () => {
    const envelope = {
      error: { code: "InputTextSensitiveContentDetected", message: "blocked Request id: 0217ok200x" },
    };
    fake.setScenario({
      raw: { headers: { "content-type": "text/event-stream" }, chunks: [JSON.stringify(envelope)] },
    });
    const error = (await caught(collect(clientFor(fake).generate({ prompt: "p" })))) as SeedreamError;
    expect(error).toBeInstanceOf(SeedreamModerationError);
    expect(error).toMatchObject({ code: "moderation_prompt", requestId: "0217ok200x" });
  });

  it("never lets the API key into an error, even when the server echoes it", async () => {
    const echoed = `Incorrect API key provided: ${API_KEY}.`;
    const error = await failureFor(401, "AuthenticationError", { message: echoed });
    const rendered = [
      error.message,
      errorSentence(error),
      error.stack ?? "",
      inspect(error, { depth: 5 }),
      JSON.stringify(error),
    ];
    for (const text of rendered) expect(text).not.toContain(API_KEY);
    expect(error.message).toContain("[redacted]");
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it("never lets the API key into a failed image's message", async () => {
    const failed = JSON.stringify({
      type: "image_generation.partial_failed",
      image_index: 0,
      error: { code: "InternalServiceError", message: `key ${API_KEY} broke` },
    });
    fake.setScenario({ raw: { chunks: [`data: ${failed}\n\ndata: [DONE]\n\n`] } });
    const [event] = await collect(clientFor(fake).generate({ prompt: "p" }));
    expect(JSON.stringify(event)).not.toContain(API_KEY);
  });

  it("never lets the API key into a network error", async () => {
    const client = clientFor(fake, { baseUrl: "http://127.0.0.1:9/api/v3" });
    const error = (await caught(collect(client.generate({ prompt: "p" })))) as SeedreamError;
    expect(error.code).toBe("network");
    expect(errorSentence(error)).toBe("The bot could not reach Seedream; please try again later.");
    expect(inspect(error, { depth: 10 })).not.toContain(API_KEY);
    await client.close();
  });
});
