/**
 * The one error class of the kernel, and its conversion to wire errors.
 *
 * @module
 */
import type { ErrorCode, WireError } from "../../sdk/error_codes.ts";

export type { ErrorCode, WireError };

/** Options of {@linkcode KernelError}. */
export interface KernelErrorOptions {
  /** Structured detail that is safe to show to the caller. */
  data?: Readonly<Record<string, unknown>>;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A kernel failure with a stable string code.
 *
 * @example Throw and recognise a kernel error
 * ```ts
 * import { KernelError } from "./errors.ts";
 * const err = new KernelError("NOT_FOUND", "Cannot find capsule 'x'");
 * console.assert(KernelError.is(err, "NOT_FOUND"));
 * ```
 */
export class KernelError extends Error {
  /** The machine-readable code. */
  readonly code: ErrorCode;
  /** Structured, caller-safe detail. */
  readonly data: Readonly<Record<string, unknown>> | undefined;

  /**
   * @param code The error code.
   * @param message What failed and why.
   * @param options Detail and cause.
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: KernelErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "KernelError";
    this.code = code;
    this.data = options.data;
  }

  /**
   * Tells whether `err` is a {@linkcode KernelError}, optionally with a given code.
   *
   * @param err Anything caught.
   * @param code The code to require.
   * @returns `true` when it matches.
   */
  static is(err: unknown, code?: ErrorCode): err is KernelError {
    return err instanceof KernelError &&
      (code === undefined || err.code === code);
  }
}

const PATH_LIKE = /(?:[A-Za-z]:)?(?:\/[^\s'"`/]+){2,}\/?/g;

/**
 * Converts any thrown value into a wire error: code and message only, with host
 * paths redacted and never a stack trace.
 *
 * @param err The thrown value.
 * @param correlationId Optional id matching an audit entry.
 * @returns A {@linkcode WireError} safe to send across a boundary.
 *
 * @example Sanitize an error
 * ```ts
 * import { KernelError, toWireError } from "./errors.ts";
 * const w = toWireError(new KernelError("HOST_IO", "Cannot read /home/u/.astrid/x"));
 * console.assert(!w.message.includes("/home/u"));
 * ```
 */
export function toWireError(err: unknown, correlationId?: string): WireError {
  const base: WireError = KernelError.is(err)
    ? {
      code: err.code,
      message: redactPaths(err.message),
      ...(err.data
        ? { data: redactData(err.data) as Record<string, unknown> }
        : {}),
    }
    : { code: "INTERNAL", message: "Internal error" };
  return correlationId === undefined ? base : { ...base, correlationId };
}

function redactData(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactPaths(value);
  if (depth > 8 || value === null || typeof value !== "object") {
    return depth > 8 ? "<truncated>" : value;
  }
  if (Array.isArray(value)) return value.map((v) => redactData(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactData(v, depth + 1);
  return out;
}

/**
 * Replaces absolute host paths in a message by `<path>`.
 *
 * @param message The message to clean.
 * @returns The message without absolute paths of two or more segments.
 */
export function redactPaths(message: string): string {
  return message.replace(PATH_LIKE, "<path>");
}
