/**
 * The {@linkcode Env} port on top of `Deno.env`.
 *
 * @module
 */
import type { Env } from "../core/ports.ts";
import { hostError } from "./_host_error.ts";

/**
 * Creates the real, read-only environment adapter.
 *
 * @returns An {@linkcode Env} that reads the process environment on every call.
 * @throws {KernelError} From `get()`: `HOST_PERMISSION_DENIED` when the Deno sandbox
 * refuses env access for that name.
 *
 * @example Read a variable
 * ```ts
 * import { createDenoEnv } from "./deno_env.ts";
 * const env = createDenoEnv();
 * const home: string | undefined = env.get("HOME");
 * ```
 */
export function createDenoEnv(): Env {
  return {
    get(name: string): string | undefined {
      try {
        return Deno.env.get(name);
      } catch (err) {
        if (err instanceof TypeError) throw err;
        throw hostError(err, `read environment variable '${name}'`);
      }
    },
  };
}
