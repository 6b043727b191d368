/**
 * One `--allow-*` list of the daemon's Deno flags: values with the reason
 * each is there, checked so that no value can change the command line's
 * meaning.
 *
 * Security model: Deno splits an `--allow-read=a,b` list at commas, so a
 * value with a comma would grant two things; a control character (newline,
 * NUL) has no place in a path, host or name. Such a value is refused
 * (`CONFIG_INVALID`), never escaped or split. Each flag is one argv element
 * (`--allow-read=<list>`), so `=` or a leading `-` inside a value cannot start
 * another flag.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/** One value of a flag list and why it is there. */
export interface FlagEntry {
  /** The value as Deno reads it (a path, `host[:port]`, a variable name, a command). */
  readonly value: string;
  /** Why the daemon needs it (several reasons joined with `; `). */
  readonly reason: string;
}

// deno-lint-ignore no-control-regex
const UNSAFE = /[,\u0000-\u001f\u007f]/;

/**
 * Why `value` cannot be a flag list entry, or `null` when it can.
 *
 * @param value A candidate value.
 * @returns The problem, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsafeFlagValue } from "./deno_flag_list.ts";
 * assert.equal(unsafeFlagValue("/srv/projects"), null);
 * assert.match(unsafeFlagValue("/a,/etc") ?? "", /comma/);
 * ```
 */
export function unsafeFlagValue(value: string): string | null {
  if (value === "") return "it is empty";
  const m = UNSAFE.exec(value);
  if (m === null) return null;
  return m[0] === ","
    ? "it contains a comma (Deno would split it into two entries)"
    : "it contains a control character";
}

/** An ordered, de-duplicated list of flag values with their reasons. */
export class FlagList {
  readonly #entries = new Map<string, string[]>();

  /**
   * Adds a value, or another reason to a value already present.
   *
   * @param value The value.
   * @param reason Why it is needed.
   * @param source What the value came from, for the error (e.g. `workspace.roots`).
   * @throws {KernelError} `CONFIG_INVALID` when the value has a comma or a control character.
   */
  add(value: string, reason: string, source: string): void {
    const problem = unsafeFlagValue(value);
    if (problem !== null) {
      throw new KernelError(
        "CONFIG_INVALID",
        `Cannot use ${
          JSON.stringify(value)
        } from ${source} in the daemon's Deno permissions as ${problem}; rename or remove it`,
        { data: { source } },
      );
    }
    const reasons = this.#entries.get(value);
    if (reasons === undefined) this.#entries.set(value, [reason]);
    else if (!reasons.includes(reason)) reasons.push(reason);
  }

  /** `true` when `value` is in the list. */
  has(value: string): boolean {
    return this.#entries.has(value);
  }

  /** The entries, in insertion order. */
  entries(): FlagEntry[] {
    return [...this.#entries].map(([value, reasons]) => ({
      value,
      reason: reasons.join("; "),
    }));
  }
}

/**
 * Renders `--allow-<name>=<v1>,<v2>`, or nothing for an empty list.
 *
 * @param name `read`, `write`, `net`, `env`, `run` or `sys`.
 * @param entries The checked entries.
 * @returns Zero or one argv element.
 */
export function allowFlag(
  name: string,
  entries: readonly FlagEntry[],
): string[] {
  if (entries.length === 0) return [];
  return [`--allow-${name}=${entries.map((e) => e.value).join(",")}`];
}
