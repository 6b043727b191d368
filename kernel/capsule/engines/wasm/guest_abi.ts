/**
 * The wasm guest ABI of Astrid: one generic host function and its JSON
 * envelopes. The kernel side is {@linkcode answerHostCall}; the AssemblyScript
 * side is `tests/fixtures/capsules/wasm-build/astrid_guest.ts`.
 *
 * Import (Extism user namespace):
 *
 * ```text
 * (import "extism:host/user" "astrid_call" (func (param i64) (result i64)))
 * ```
 *
 * The parameter is the Extism memory offset of a UTF-8 JSON block
 * `{"fn": "<host function>", "payload": <any JSON>}` (`payload` may be
 * omitted: null; no other keys). The result is the offset of a UTF-8 JSON
 * block that is always exactly one of
 *
 * ```text
 * {"ok":true,"value":<JSON>}
 * {"ok":false,"error":{"code":"<ERROR_CODE>","message":"<text>"}}
 * ```
 *
 * written compactly with the keys in this order, so small guests may slice
 * instead of parse. A refusal (gate denial, bad request, unknown function) is
 * a value, never a trap. Requests above {@linkcode MAX_HOST_REQUEST_BYTES} are
 * refused with `ABI_PAYLOAD_TOO_LARGE`.
 *
 * Exports: every exported function `() -> i32` is an action. Its input is the
 * invoke payload as JSON text; its output (`output_set`) must be JSON text or
 * empty (null). `error_set` + a non-zero return fails the call
 * (`CAPSULE_FAILED` with the guest's message). Names starting with `_` are
 * not callable.
 *
 * @module
 */
import { KernelError, toWireError } from "../../../core/errors.ts";
import type { JsonValue } from "../../../store/store.ts";
import type { HostCallDispatcher } from "../../engine.ts";

/** The import module of the generic host function. */
export const HOST_NAMESPACE = "extism:host/user";
/** The import name of the generic host function. */
export const HOST_FUNCTION = "astrid_call";
/** Largest host-call request or invoke payload, in bytes (reference §5.1: 10 MiB). */
export const MAX_HOST_REQUEST_BYTES = 10 * 1024 * 1024;

const FN_NAME = /^[a-z][a-z0-9_.]{0,127}$/;

/** A parsed host-call request. */
export interface HostRequest {
  /** The host function name (lower-case, `[a-z0-9_.]`, ≤ 128 chars). */
  readonly fn: string;
  /** Its JSON payload. */
  readonly payload: JsonValue;
}

/**
 * Parses and validates the guest's request text.
 *
 * @param text The request block as UTF-8 text.
 * @returns The request.
 * @throws {KernelError} `ABI_PAYLOAD_TOO_LARGE` above the size limit;
 *   `INVALID_INPUT` when it is not `{"fn": string, "payload"?: JSON}`.
 *
 * @example Parse a request
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostRequest } from "./guest_abi.ts";
 * assert.deepEqual(parseHostRequest('{"fn":"kv_get","payload":{"key":"a"}}'), {
 *   fn: "kv_get",
 *   payload: { key: "a" },
 * });
 * ```
 */
export function parseHostRequest(text: string): HostRequest {
  if (text.length > MAX_HOST_REQUEST_BYTES) {
    throw new KernelError(
      "ABI_PAYLOAD_TOO_LARGE",
      `Host call refused: the request has ${text.length} characters, above the limit of ${MAX_HOST_REQUEST_BYTES} bytes`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new KernelError(
      "INVALID_INPUT",
      "Host call refused: the request is not JSON",
      { cause: err },
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new KernelError(
      "INVALID_INPUT",
      'Host call refused: the request must be an object {"fn", "payload"}',
    );
  }
  const extra = Object.keys(parsed).filter((k) =>
    k !== "fn" && k !== "payload"
  );
  if (extra.length > 0) {
    throw new KernelError(
      "INVALID_INPUT",
      `Host call refused: unknown request key '${
        extra[0]
      }' (expected only "fn" and "payload")`,
    );
  }
  const { fn, payload } = parsed as { fn?: unknown; payload?: JsonValue };
  if (typeof fn !== "string" || !FN_NAME.test(fn)) {
    throw new KernelError(
      "INVALID_INPUT",
      `Host call refused: "fn" must be a lower-case name of at most 128 characters, got ${
        JSON.stringify(fn)?.slice(0, 64)
      }`,
    );
  }
  return { fn, payload: payload === undefined ? null : payload };
}

/**
 * Encodes a success envelope.
 *
 * @param value The host function's result (undefined ⇒ null).
 * @returns `{"ok":true,"value":...}`.
 *
 * @example Encode a value
 * ```ts
 * import { okEnvelope } from "./guest_abi.ts";
 * console.assert(okEnvelope(1) === '{"ok":true,"value":1}');
 * ```
 */
export function okEnvelope(value: JsonValue | undefined): string {
  return `{"ok":true,"value":${JSON.stringify(value ?? null)}}`;
}

/**
 * Encodes a failure envelope from any thrown value (code and redacted message
 * only, via `toWireError`).
 *
 * @param err What was thrown.
 * @returns `{"ok":false,"error":{"code":...,"message":...}}`.
 *
 * @example Encode a gate refusal
 * ```ts
 * import { KernelError } from "../../../core/errors.ts";
 * import { errorEnvelope } from "./guest_abi.ts";
 * const text = errorEnvelope(new KernelError("MANIFEST_DENIED", "no"));
 * console.assert(text === '{"ok":false,"error":{"code":"MANIFEST_DENIED","message":"no"}}');
 * ```
 */
export function errorEnvelope(err: unknown): string {
  const wire = toWireError(err);
  return JSON.stringify({
    ok: false,
    error: { code: wire.code, message: wire.message },
  });
}

/**
 * Answers one guest host call: parses the request, hands it to the kernel's
 * dispatcher, and encodes the result. Never rejects.
 *
 * @param request The request block text.
 * @param host The kernel's dispatcher (it maps the call to a gate action).
 * @param options `signal` fires when the invoke ends (deadline, unload).
 * @returns The reply envelope text.
 *
 * @example Answer a call with a dispatcher that echoes
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerHostCall } from "./guest_abi.ts";
 * const reply = await answerHostCall(
 *   '{"fn":"echo","payload":[1,2]}',
 *   (_fn, payload) => Promise.resolve(payload),
 *   { signal: new AbortController().signal },
 * );
 * assert.equal(reply, '{"ok":true,"value":[1,2]}');
 * ```
 */
export async function answerHostCall(
  request: string,
  host: HostCallDispatcher,
  options: { signal: AbortSignal },
): Promise<string> {
  try {
    const { fn, payload } = parseHostRequest(request);
    return okEnvelope(await host(fn, payload, { signal: options.signal }));
  } catch (err) {
    return errorEnvelope(err);
  }
}
