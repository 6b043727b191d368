/**
 * An {@linkcode Env} backed by a plain record, for tests.
 *
 * @module
 */
import type { Env } from "../core/ports.ts";

/**
 * An environment that holds only what the test puts in it.
 *
 * @example Resolve a variable
 * ```ts
 * import { MemoryEnv } from "./memory_env.ts";
 * const env = new MemoryEnv({ HOME: "/home/alice" });
 * console.assert(env.get("HOME") === "/home/alice");
 * console.assert(env.get("PATH") === undefined);
 * ```
 */
export class MemoryEnv implements Env {
  readonly #vars: Map<string, string>;

  /**
   * Creates an environment holding a copy of `vars`.
   *
   * @param vars Initial variables (copied).
   */
  constructor(vars: Readonly<Record<string, string>> = {}) {
    this.#vars = new Map(Object.entries(vars));
  }

  /**
   * Reads a variable.
   *
   * @param name The variable name.
   * @returns Its value, or `undefined` when unset.
   */
  get(name: string): string | undefined {
    return this.#vars.get(name);
  }

  /**
   * Sets a variable.
   *
   * @param name The variable name.
   * @param value The value.
   */
  set(name: string, value: string): void {
    this.#vars.set(name, value);
  }

  /**
   * Unsets a variable.
   *
   * @param name The variable name.
   */
  delete(name: string): void {
    this.#vars.delete(name);
  }

  /**
   * A copy of every variable.
   *
   * @returns A fresh record.
   */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.#vars);
  }
}
