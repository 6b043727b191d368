/**
 * Helpers for model provider capsules (the capsules answering
 * `llm.v1.request.generate.<provider>`): {@linkcode openProviderStream}
 * opens the streamed API call with bounded retries (429 honouring
 * `retry-after`, 5xx, a failed connection) and turns an API error body into
 * a {@linkcode ProviderError}. `LlmStreamBuilder` (`llm_stream_builder.ts`)
 * publishes the stream events and assembles the response.
 *
 * @module
 */
import { host, HostCallError, type HttpStream } from "./host.ts";
import type { HostParams } from "./host_abi.ts";

/**
 * A provider could not answer: the API refused or failed (after bounded
 * retries), or its stream was cut. `code` is always `PROVIDER_FAILED`, and
 * the message starts with it (the kernel reports a guest's exception as
 * `CAPSULE_FAILED` with the exception's text).
 *
 * @example Report an API error
 * ```ts
 * import { ProviderError } from "./provider.ts";
 * const err = new ProviderError("openai API returned 401: bad key", { status: 401 });
 * console.assert(err.code === "PROVIDER_FAILED" && err.status === 401);
 * console.assert(err.message.startsWith("PROVIDER_FAILED: "));
 * ```
 */
export class ProviderError extends Error {
  /** Always `PROVIDER_FAILED`. */
  readonly code: "PROVIDER_FAILED" = "PROVIDER_FAILED";
  /** The API's HTTP status, when it answered with an error. */
  readonly status: number | null;

  /**
   * Creates the error a provider throws.
   *
   * @param message What failed.
   * @param options The API's status and the cause.
   */
  constructor(
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(
      `PROVIDER_FAILED: ${message}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = "ProviderError";
    this.status = options.status ?? null;
  }
}

/**
 * Options of {@linkcode openProviderStream}.
 *
 * @example Four attempts, starting at one second
 * ```ts
 * import type { ProviderStreamOptions } from "./provider.ts";
 * const options: ProviderStreamOptions = {
 *   provider: "openai",
 *   attempts: 4,
 *   baseDelayMs: 1_000,
 * };
 * console.assert(options.attempts === 4);
 * ```
 */
export interface ProviderStreamOptions {
  /** The provider name (for messages). */
  readonly provider: string;
  /** Attempts in all (default 3): a 429, a 5xx or a failed connection is retried. */
  readonly attempts?: number;
  /** First backoff (ms, default 250), doubled each retry; `retry-after` wins. */
  readonly baseDelayMs?: number;
  /** Longest wait before a retry (ms, default 30 000). */
  readonly maxDelayMs?: number;
  /** Opens the stream (default `host.http.stream`). */
  readonly open?: (
    params: HostParams<"http_stream_open">,
  ) => Promise<HttpStream>;
  /** Waits (default `host.clock.sleep`). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const ERROR_BODY_MAX = 64 * 1024;

/**
 * The message of an API error body: `error.message` (Anthropic, OpenAI),
 * `error` as a string (Ollama), `message`, or the start of the raw text.
 *
 * @param body The error response's body.
 * @returns A one-line message.
 *
 * @example Read the message of Anthropic's and Ollama's error bodies
 * ```ts
 * import { apiErrorMessage } from "./provider.ts";
 * const body = '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}';
 * console.assert(apiErrorMessage(body) === "authentication_error: invalid x-api-key");
 * console.assert(apiErrorMessage('{"error":"model not found"}') === "model not found");
 * ```
 */
export function apiErrorMessage(body: string): string {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const e = v?.["error"];
    if (typeof e === "string") return e;
    if (e && typeof e === "object") {
      const o = e as Record<string, unknown>;
      if (typeof o["message"] === "string") {
        const kind = typeof o["type"] === "string" ? `${o["type"]}: ` : "";
        return `${kind}${o["message"]}`;
      }
    }
    if (typeof v?.["message"] === "string") return v["message"] as string;
  } catch {
    // silent-ok: not JSON; the raw text is quoted below
  }
  const text = body.trim().replace(/\s+/g, " ");
  return text === "" ? "(empty body)" : text.slice(0, 500);
}

async function drain(stream: HttpStream): Promise<string> {
  let text = "";
  try {
    for await (const chunk of stream.chunks()) {
      text += chunk;
      if (text.length > ERROR_BODY_MAX) break;
    }
  } catch {
    // silent-ok: the status is the error; the body is only its explanation
  }
  await stream.close().catch(() => {/* silent-ok: already closed */});
  return text;
}

function retryAfterMs(
  headers: Readonly<Record<string, string>>,
): number | null {
  const v = headers["retry-after"];
  if (v === undefined) return null;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * Opens a provider's streamed API call. A 429 (after its `retry-after`, or
 * a backoff), a 5xx and a failed connection are retried up to `attempts`
 * in all; any other error status, or the last failure, becomes a
 * {@linkcode ProviderError} carrying the API's own message.
 *
 * @param params The request (`{{secret:NAME}}` placeholders in header
 *   values are substituted by the kernel; the capsule never sees the key).
 * @param options Provider name, attempts, backoff.
 * @returns The open stream of a 2xx response.
 * @throws {ProviderError} When the API keeps failing or refuses; also when
 *   the kernel refuses the request (the message names the kernel's code).
 *
 * @example Retry once after a 429
 * ```ts
 * import { openProviderStream } from "./provider.ts";
 * import type { HttpStream } from "./host.ts";
 * const answer = (status: number, headers: Record<string, string>): HttpStream => ({
 *   status, headers,
 *   async *chunks() { yield status === 200 ? "data: ok\n\n" : '{"error":"slow down"}'; },
 *   close: () => Promise.resolve(),
 * });
 * const statuses = [429, 200];
 * const waits: number[] = [];
 * const stream = await openProviderStream({ url: "https://api.example.com/v1" }, {
 *   provider: "example",
 *   open: () => Promise.resolve(answer(statuses.shift()!, { "retry-after": "2" })),
 *   sleep: (ms) => (waits.push(ms), Promise.resolve()),
 * });
 * console.assert(stream.status === 200 && waits[0] === 2000);
 * ```
 */
export async function openProviderStream(
  params: HostParams<"http_stream_open">,
  options: ProviderStreamOptions,
): Promise<HttpStream> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 30_000;
  const open = options.open ?? host.http.stream;
  const sleep = options.sleep ?? host.clock.sleep;
  const who = options.provider;
  for (let attempt = 1;; attempt++) {
    const last = attempt >= attempts;
    const backoff = Math.min(max, base * 2 ** (attempt - 1));
    let stream: HttpStream;
    try {
      stream = await open(params);
    } catch (err) {
      const code = err instanceof HostCallError ? err.code : "";
      if (code === "HOST_IO" && !last) {
        await sleep(backoff);
        continue;
      }
      throw new ProviderError(
        `${who}: the request failed${code ? ` (${code})` : ""}: ${
          err instanceof Error ? err.message : String(err)
        }`,
        { cause: err },
      );
    }
    if (stream.status >= 200 && stream.status < 300) return stream;
    const retryable = stream.status === 429 || stream.status >= 500;
    const body = await drain(stream);
    if (retryable && !last) {
      await sleep(Math.min(max, retryAfterMs(stream.headers) ?? backoff));
      continue;
    }
    throw new ProviderError(
      `${who} API returned ${stream.status}${
        retryable ? ` after ${attempts} attempts` : ""
      }: ${apiErrorMessage(body)}`,
      { status: stream.status },
    );
  }
}
