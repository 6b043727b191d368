/**
 * Private: turns errors thrown by `Deno.*` into {@linkcode KernelError}s.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * Maps a host error to a kernel error, keeping the original as `cause`.
 *
 * - already a `KernelError` ⇒ returned as is;
 * - `Deno.errors.NotFound` ⇒ `NOT_FOUND`;
 * - `Deno.errors.PermissionDenied` / `Deno.errors.NotCapable` ⇒ `HOST_PERMISSION_DENIED`;
 * - an `AbortError` ⇒ `ABORTED`;
 * - anything else (including `AlreadyExists`) ⇒ `HOST_IO`.
 *
 * @param err The thrown value.
 * @param what What was being done, e.g. "read 'x'", for the message.
 * @returns The kernel error to throw.
 */
export function hostError(err: unknown, what: string): KernelError {
  if (err instanceof KernelError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof Deno.errors.NotFound) {
    return new KernelError(
      "NOT_FOUND",
      `Cannot ${what} as it does not exist (${detail})`,
      { cause: err },
    );
  }
  if (
    err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotCapable
  ) {
    return new KernelError(
      "HOST_PERMISSION_DENIED",
      `Cannot ${what} as the host denied permission (${detail})`,
      { cause: err },
    );
  }
  if (isAbortError(err)) {
    return new KernelError("ABORTED", `Cancelled ${what}`, { cause: err });
  }
  return new KernelError("HOST_IO", `Cannot ${what}: ${detail}`, {
    cause: err,
  });
}

function isAbortError(err: unknown): boolean {
  return typeof err === "object" && err !== null &&
    (err as { name?: unknown }).name === "AbortError";
}
