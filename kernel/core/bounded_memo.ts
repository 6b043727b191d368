/**
 * One bounded memo for pure functions of a string: the gate asks the same
 * questions (a URL's parts, a host's class, a path's rule) several times per
 * decision. The cache is cleared when full, so it never grows past its bound;
 * an object result is frozen, so no caller can change what the next one gets.
 *
 * @module
 */

/** Entries a memo holds at most before it is cleared. */
export const MEMO_SIZE = 512;

/**
 * `f(key)`, remembered in `cache`.
 *
 * @param cache The memo's map (its owner's; one per function).
 * @param key The input.
 * @param f A pure function of `key`.
 * @returns The (frozen, when an object) answer.
 *
 * @example Remembered answers
 * ```ts
 * import assert from "node:assert/strict";
 * import { memo } from "./bounded_memo.ts";
 * const cache = new Map<string, { n: number }>();
 * let calls = 0;
 * const f = (k: string) => ({ n: (calls++, k.length) });
 * assert.equal(memo(cache, "abc", f), memo(cache, "abc", f));
 * assert.equal(calls, 1);
 * assert.ok(Object.isFrozen(memo(cache, "abc", f)));
 * ```
 */
export function memo<T>(
  cache: Map<string, T>,
  key: string,
  f: (k: string) => T,
): T {
  const hit = cache.get(key);
  if (hit !== undefined || cache.has(key)) return hit as T;
  const value = f(key);
  if (typeof value === "object" && value !== null) Object.freeze(value);
  if (cache.size >= MEMO_SIZE) cache.clear();
  cache.set(key, value);
  return value;
}
