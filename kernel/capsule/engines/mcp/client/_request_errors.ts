/**
 * Maps what the MCP SDK rejects a request with to a {@linkcode KernelError}:
 * cancellation ⇒ `ABORTED`, request timeout ⇒ `CAPSULE_TIMEOUT`, anything
 * else (connection closed, JSON-RPC error from the server, malformed
 * result) ⇒ `CAPSULE_FAILED`. Messages name the MCP method, carry at most a
 * short, single-line reason and never a stack trace.
 *
 * @module
 */
import {
  ProtocolError,
  SdkError,
  SdkErrorCode,
} from "@modelcontextprotocol/client";
import { KernelError } from "../../../../core/errors.ts";

const MAX_REASON = 300;

/** What {@linkcode requestError} needs to know about the failed request. */
export interface RequestErrorContext {
  /** The caller's signal fired. */
  readonly aborted: boolean;
  /** The timeout the request ran with, in ms. */
  readonly timeoutMs: number;
}

/**
 * Shortens a reason to one line of at most 300 characters.
 *
 * @param text Any text.
 * @returns The flattened, possibly cut text.
 *
 * @example Flatten a multi-line reason
 * ```ts
 * import assert from "node:assert/strict";
 * import { shortReason } from "./_request_errors.ts";
 * assert.equal(shortReason("a\n  b"), "a b");
 * ```
 */
export function shortReason(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON)}…` : flat;
}

/**
 * Converts a request failure into a kernel error.
 *
 * @param err What the SDK rejected with.
 * @param what The request, e.g. `tools/call 'echo'`.
 * @param context Whether the caller aborted, and the timeout used.
 * @returns `ABORTED`, `CAPSULE_TIMEOUT` or `CAPSULE_FAILED`.
 *
 * @example A server's JSON-RPC error
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProtocolError } from "@modelcontextprotocol/client";
 * import { requestError } from "./_request_errors.ts";
 * const e = requestError(new ProtocolError(-32602, "bad args"), "tools/call 'x'", { aborted: false, timeoutMs: 1000 });
 * assert.equal(e.code, "CAPSULE_FAILED");
 * assert.equal(e.message, "MCP tools/call 'x' failed: server error -32602: bad args");
 * ```
 */
export function requestError(
  err: unknown,
  what: string,
  context: RequestErrorContext,
): KernelError {
  if (KernelError.is(err)) return err;
  if (context.aborted) {
    return new KernelError("ABORTED", `Cancelled MCP ${what}`, {
      data: { method: what },
    });
  }
  if (err instanceof SdkError) {
    if (err.code === SdkErrorCode.RequestTimeout) {
      return new KernelError(
        "CAPSULE_TIMEOUT",
        `MCP ${what} timed out after ${context.timeoutMs} ms`,
        { data: { method: what, timeoutMs: context.timeoutMs } },
      );
    }
    if (
      err.code === SdkErrorCode.ConnectionClosed ||
      err.code === SdkErrorCode.NotConnected
    ) {
      return new KernelError(
        "CAPSULE_FAILED",
        `MCP ${what} failed: the connection to the server closed`,
        { data: { method: what } },
      );
    }
  }
  if (err instanceof ProtocolError) {
    const reason = shortReason(
      err.message.replace(/^(MCP error -?\d+: )+/, ""),
    );
    return new KernelError(
      "CAPSULE_FAILED",
      `MCP ${what} failed: server error ${err.code}: ${reason}`,
      { data: { method: what, mcpCode: err.code } },
    );
  }
  const text = err instanceof Error ? err.message : String(err);
  const reason = text === "Not connected"
    ? "the connection to the server is closed"
    : shortReason(text);
  return new KernelError("CAPSULE_FAILED", `MCP ${what} failed: ${reason}`, {
    data: { method: what },
  });
}
