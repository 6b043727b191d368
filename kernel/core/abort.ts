/**
 * Helpers for honouring `AbortSignal`.
 *
 * @module
 */
import { KernelError } from "./errors.ts";

/**
 * Throws `ABORTED` when the signal has fired.
 *
 * @param signal The optional signal.
 * @param what What was being done, for the message.
 * @throws {KernelError} `ABORTED`.
 */
export function throwIfAborted(
  signal: AbortSignal | undefined,
  what: string,
): void {
  if (signal?.aborted) {
    throw new KernelError("ABORTED", `Cancelled ${what}`, {
      cause: signal.reason,
    });
  }
}
