/**
 * Private: constant-time byte comparison (as Hono's `timingSafeEqual`), for
 * comparing a presented token's signature and signed bytes with the
 * registered ones without leaking how many leading bytes matched.
 *
 * @module
 */

/**
 * Compares two byte arrays in time that depends only on their length.
 *
 * @param a One array.
 * @param b The other.
 * @returns `true` when both have the same length and the same bytes.
 *
 * @example Compare signatures
 * ```ts
 * import assert from "node:assert/strict";
 * import { timingSafeEqual } from "./_timing_safe_equal.ts";
 * assert.ok(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
 * assert.ok(!timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
 * assert.ok(!timingSafeEqual(new Uint8Array([1]), new Uint8Array([1, 2])));
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // Lengths are public (signatures are 64 bytes; claims are not secret).
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
