/**
 * The {@linkcode Signals} port on top of `Deno.addSignalListener`.
 *
 * @module
 */
import type { ShutdownSignal, Signals } from "../core/ports.ts";
import { hostError } from "./_host_error.ts";

/**
 * Creates the real signal adapter. `onShutdown()` listens for SIGINT and
 * SIGTERM (only SIGINT on Windows, which has no SIGTERM) and returns a
 * function that removes both listeners; calling it again does nothing. Once
 * every listener is gone, the signal's default action (ending the process)
 * applies again.
 *
 * @returns A {@linkcode Signals}.
 * @throws {KernelError} From `onShutdown()`: `HOST_IO` when the host cannot install a listener.
 *
 * @example Register and dispose a shutdown handler
 * ```ts
 * import { createDenoSignals } from "./deno_signals.ts";
 * const dispose = createDenoSignals().onShutdown((signal) => {
 *   // begin a graceful stop on `signal`
 * });
 * dispose();
 * ```
 */
export function createDenoSignals(): Signals {
  return {
    onShutdown(handler: (signal: ShutdownSignal) => void): () => void {
      const signals: ShutdownSignal[] = Deno.build.os === "windows"
        ? ["SIGINT"]
        : ["SIGINT", "SIGTERM"];
      const installed: Array<[ShutdownSignal, () => void]> = [];
      const dispose = (): void => {
        for (const [signal, listener] of installed.splice(0)) {
          Deno.removeSignalListener(signal, listener);
        }
      };
      try {
        for (const signal of signals) {
          const listener = (): void => handler(signal);
          Deno.addSignalListener(signal, listener);
          installed.push([signal, listener]);
        }
      } catch (err) {
        dispose();
        throw hostError(err, "listen for shutdown signals");
      }
      return dispose;
    },
  };
}
