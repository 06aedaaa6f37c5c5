import { setTimeout as delay } from "node:timers/promises";
import { Agent, type Dispatcher } from "undici";
import { errorFromApi, plausibleRequestId, seedreamError } from "./error-mapping.js";
import { SeedreamError } from "./errors.js";
import { BASE64_FIELD } from "./event-json.js";
import { eventsFromJson, eventsFromSse, type TranslateContext } from "./events.js";
import { fanOut } from "./fan-out.js";
import {
  type AttemptSignals,
  type HttpSettings,
  header,
  readAll,
  send,
  sniffBody,
  transportError,
} from "./http.js";
import { type ImageHostPolicy, refuseImageUrl } from "./image-hosts.js";
import { type ModelCapabilities, modelCapabilities } from "./models.js";
import {
  type AuthScheme,
  authorizationHeader,
  modelOffers,
  type ProviderId,
  type ProviderProfile,
  resolveProvider,
} from "./providers.js";
import { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy, retryDelay, type Sleep } from "./retry.js";
import { decodeSse } from "./sse.js";
import {
  type GenerateOptions,
  type GenerateRequest,
  type GenerationEvent,
  type ImageGenerator,
  REQUEST_DEFAULTS,
} from "./types.js";
import { type ModelContext, prepareRequest } from "./validate.js";
import { buildRequestBody, wireErrorEnvelopeSchema } from "./wire.js";

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: SeedreamError;
}

export interface SeedreamClientOptions {
  provider?: ProviderId;
  apiKey: string;
  /** Overrides the provider's base URL (SEEDREAM_BASE_URL). */
  baseUrl?: string;
  /** Image hosts `response_format: url` may also download from (SEEDREAM_IMAGE_HOSTS). */
  imageHosts?: readonly string[];
  /** Largest image downloaded for `response_format: url`. */
  maxImageBytes?: number;
  /** Overrides the provider's auth style (SEEDREAM_AUTH_SCHEME). */
  authScheme?: AuthScheme;
  /** `--n N` on a model without groups: how many single-image requests run at once (SEEDREAM_PARALLEL_REQUESTS). */
  parallelRequests?: number;
  /** Default model; the provider's Seedream 4.5 id when absent. */
  model?: string;
  /** undici 7 dispatcher; the client makes (and `close()`s) its own Agent when absent. */
  dispatcher?: Dispatcher;
  /** Time to the response headers, which arrive only once the first image is done. Default 120 s. */
  headersTimeoutMs?: number;
  /** Longest wait for the next piece of the body while reading it. Default 120 s. */
  idleTimeoutMs?: number;
  /** Retries for 429/5xx/network failures before the first image. Default 2. */
  maxRetries?: number;
  retryPolicy?: Partial<Omit<RetryPolicy, "maxRetries">>;
  random?: () => number;
  sleep?: Sleep;
  now?: () => number;
  onRetry?: (info: RetryInfo) => void;
  userAgent?: string;
  /**
   * Waits until one more streamed image may be read; resolves with what frees it. Held from an
   * image event's first big chunk until the caller asks for the next event (see `decodeSse`),
   * so a process bounds the images it holds across all runs. Default: no bound.
   */
  admitImage?: () => Promise<() => void>;
}

export interface SeedreamClient extends ImageGenerator {
  readonly provider: ProviderProfile;
  readonly model: string;
  /** Closes the client's own connection pool (not an injected dispatcher). */
  close(): Promise<void>;
}

/** What an option left out means. */
export const CLIENT_DEFAULTS = {
  provider: "ark",
  headersTimeoutMs: 120_000,
  idleTimeoutMs: 120_000,
  connectTimeoutMs: 30_000,
  maxRetries: DEFAULT_RETRY_POLICY.maxRetries,
  parallelRequests: 4,
  /** A 4K PNG is about 25 MB. */
  maxImageBytes: 40 * 1024 * 1024,
  userAgent: "seedream-bot",
  /** An error body is a few hundred bytes; a gateway's HTML page is cut off here. */
  errorBodyLimitBytes: 1024 * 1024,
  random: Math.random,
  now: Date.now,
  sleep: (ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }),
} as const satisfies Required<
  Pick<
    SeedreamClientOptions,
    | "provider"
    | "headersTimeoutMs"
    | "idleTimeoutMs"
    | "maxRetries"
    | "parallelRequests"
    | "maxImageBytes"
    | "userAgent"
    | "random"
    | "now"
    | "sleep"
  >
> & { connectTimeoutMs: number; errorBodyLimitBytes: number };

export function createSeedreamClient(options: SeedreamClientOptions): SeedreamClient {
  const provider = resolveProvider(
    options.provider ?? CLIENT_DEFAULTS.provider,
    options.baseUrl,
    options.authScheme,
  );
  const parallelRequests = options.parallelRequests ?? CLIENT_DEFAULTS.parallelRequests;
  const defaultModel = options.model ?? provider.defaultModel;
  const headersTimeoutMs = options.headersTimeoutMs ?? CLIENT_DEFAULTS.headersTimeoutMs;
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({
        headersTimeout: headersTimeoutMs,
        bodyTimeout: 0,
        connect: { timeout: CLIENT_DEFAULTS.connectTimeoutMs },
      });
  const settings: HttpSettings = {
    dispatcher: options.dispatcher ?? (ownAgent as Agent),
    headersTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? CLIENT_DEFAULTS.idleTimeoutMs,
    secrets: [options.apiKey],
  };
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...options.retryPolicy,
    maxRetries: options.maxRetries ?? CLIENT_DEFAULTS.maxRetries,
  };
  const random = options.random ?? CLIENT_DEFAULTS.random;
  const sleep: Sleep = options.sleep ?? CLIENT_DEFAULTS.sleep;
  const now = options.now ?? CLIENT_DEFAULTS.now;
  const endpoint = `${provider.baseUrl}/images/generations`;
  const modelContext: ModelContext = { provider, defaultModel };
  const hostPolicy: ImageHostPolicy = { provider: provider.imageHosts, operator: options.imageHosts ?? [] };
  const maxImageBytes = options.maxImageBytes ?? CLIENT_DEFAULTS.maxImageBytes;
  const userAgent = options.userAgent ?? CLIENT_DEFAULTS.userAgent;

  async function download(url: string, callerSignal: AbortSignal | undefined): Promise<Buffer> {
    const refused = refuseImageUrl(url, hostPolicy);
    if (refused) throw new Error(`not downloading the image: ${refused}`);
    const controller = new AbortController();
    try {
      // No Authorization header: the URL is a signed link, often on another host.
      const response = await send(
        url,
        { method: "GET", headers: { "user-agent": userAgent } },
        attemptSignals(controller, callerSignal),
        settings,
      );
      if (response.status < 200 || response.status >= 300) {
        throw new Error(`downloading the image failed with HTTP ${response.status}`);
      }
      const declared = Number(header(response.headers, "content-length"));
      const tooLarge = () => new Error(`the image is larger than ${maxImageBytes} bytes`);
      if (declared > maxImageBytes) throw tooLarge();
      const parts: Buffer[] = [];
      let length = 0;
      for await (const chunk of response.body) {
        length += chunk.length;
        // Stops reading (and the finally below closes the connection) past the cap.
        if (length > maxImageBytes) throw tooLarge();
        parts.push(chunk);
      }
      return Buffer.concat(parts, length);
    } catch (error) {
      const failure = transportError(error, { controller, callerSignal, secrets: settings.secrets });
      throw failure.code === "aborted" ? failure : error;
    } finally {
      controller.abort();
    }
  }

  async function* attempt(
    body: string,
    model: string,
    controller: AbortController,
    callerSignal: AbortSignal | undefined,
    headersTimeoutMs: number,
  ): AsyncGenerator<GenerationEvent, void, undefined> {
    const response = await send(
      endpoint,
      {
        method: "POST",
        headers: {
          authorization: authorizationHeader(provider, options.apiKey),
          "content-type": "application/json",
          accept: "text/event-stream, application/json",
          "user-agent": userAgent,
        },
        body,
      },
      attemptSignals(controller, callerSignal),
      { ...settings, headersTimeoutMs },
    );
    const requestIdHeader = plausibleRequestId(header(response.headers, "x-request-id"), settings.secrets);
    if (response.status < 200 || response.status >= 300) {
      const text = (await readAll(response.body, CLIENT_DEFAULTS.errorBodyLimitBytes)).toString("utf8");
      throw errorFromApi({
        status: response.status,
        error: errorEnvelope(text),
        requestIdHeader,
        retryAfterMs: parseRetryAfter(response.headers["retry-after"], now()),
        model,
        secrets: settings.secrets,
      });
    }
    const context: TranslateContext = {
      status: response.status,
      requestIdHeader,
      model,
      secrets: settings.secrets,
      download: (url) => download(url, callerSignal),
    };
    const sniffed = await sniffBody(response.body);
    if (sniffed.kind === "json") {
      yield* eventsFromJson((await readAll(sniffed.chunks)).toString("utf8"), context);
    } else if (sniffed.kind === "sse") {
      try {
        yield* eventsFromSse(
          decodeSse(sniffed.chunks, { liftBase64Field: BASE64_FIELD, admit: options.admitImage }),
          context,
        );
      } catch (error) {
        // A connection that breaks mid-stream is a stream that ended early, like a clean close
        // before `completed`; our own timeout, a cancel and the API's errors stay what they are.
        if (error instanceof SeedreamError || controller.signal.aborted || callerSignal?.aborted) throw error;
        throw seedreamError(
          "stream_ended",
          "The Seedream stream broke off before the generation was complete.",
          {
            status: response.status,
            requestId: requestIdHeader,
            cause: error,
          },
        );
      }
    } else {
      throw seedreamError("protocol", `Seedream answered HTTP ${response.status} with an empty body.`, {
        status: response.status,
        requestId: requestIdHeader,
      });
    }
  }

  async function* generate(
    request: GenerateRequest,
    generateOptions: GenerateOptions = {},
  ): AsyncGenerator<GenerationEvent, void, undefined> {
    const { signal } = generateOptions;
    const prepared = prepareRequest(request, modelContext);
    const caps = modelCapabilities(prepared.model);
    const images = prepared.maxImages ?? REQUEST_DEFAULTS.maxImages;
    if (images > 1 && !caps.group) {
      const single = { ...prepared, maxImages: 1 };
      yield* fanOut(images, parallelRequests, (slotSignal) => exchange(single, caps, slotSignal), signal);
      return;
    }
    yield* exchange(prepared, caps, signal);
  }

  /** One API request with its retries before the first image. */
  async function* exchange(
    prepared: GenerateRequest & { model: string },
    caps: ModelCapabilities,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<GenerationEvent, void, undefined> {
    const { model } = prepared;
    const stream = (prepared.stream ?? REQUEST_DEFAULTS.stream) && caps.stream;
    const body = JSON.stringify(buildRequestBody(prepared, { provider, model, caps, stream }));
    // Without a stream the headers come only once every image is done: wait as long as the model needs.
    const waitMs = stream
      ? settings.headersTimeoutMs
      : Math.max(settings.headersTimeoutMs, caps.slowestImageMs);
    let produced = false;
    for (let retries = 0; ; retries++) {
      if (signal?.aborted) {
        throw seedreamError("aborted", "The Seedream request was cancelled.", { cause: signal.reason });
      }
      const controller = new AbortController();
      let delayMs: number | undefined;
      try {
        for await (const event of attempt(body, model, controller, signal, waitMs)) {
          // Once anything about an image has been shown, a retry would duplicate or bill twice.
          if (event.type !== "completed") produced = true;
          yield event;
        }
        return;
      } catch (error) {
        const failure = transportError(error, {
          controller,
          callerSignal: signal,
          secrets: settings.secrets,
        });
        const canRetry = !produced && failure.retryable && retries < policy.maxRetries;
        delayMs = canRetry ? retryDelay(retries, policy, random, failure.retryAfterMs) : undefined;
        if (delayMs === undefined) throw failure;
        options.onRetry?.({ attempt: retries + 1, delayMs, error: failure });
      } finally {
        controller.abort();
      }
      try {
        await sleep(delayMs, signal);
      } catch (error) {
        throw seedreamError("aborted", "The Seedream request was cancelled.", { cause: error });
      }
    }
  }

  return {
    provider,
    model: defaultModel,
    generate,
    validate: (request, referenceCount) => prepareRequest(request, modelContext, referenceCount),
    models: () => modelOffers(provider),
    describeModel(modelId) {
      return modelCapabilities(modelId ?? defaultModel).name;
    },
    async close() {
      await ownAgent?.close();
    },
  };
}

function errorEnvelope(text: string) {
  try {
    const parsed = wireErrorEnvelopeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.error : undefined;
  } catch {
    return undefined;
  }
}

/** One attempt's signals: ours (idle timeout, clean-up) and, combined with it, the caller's cancel. */
function attemptSignals(controller: AbortController, callerSignal: AbortSignal | undefined): AttemptSignals {
  return {
    controller,
    signal: callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal,
  };
}
