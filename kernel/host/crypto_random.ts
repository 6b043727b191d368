/**
 * The {@linkcode Random} port on the Web Crypto CSPRNG.
 *
 * @module
 */
import type { Random } from "../core/ports.ts";

/** `crypto.getRandomValues` fills at most this many bytes per call. */
const CHUNK = 65_536;

/**
 * Creates the real randomness source, `crypto.getRandomValues`, filling large
 * requests in 64 KiB chunks.
 *
 * @returns A {@linkcode Random}.
 * @throws {RangeError} From `bytes()` when `n` is not a non-negative safe integer.
 *
 * @example Make a 32-byte key
 * ```ts
 * import { cryptoRandom } from "./crypto_random.ts";
 * const key = cryptoRandom().bytes(32);
 * console.assert(key.length === 32);
 * ```
 */
export function cryptoRandom(): Random {
  return {
    bytes(n: number): Uint8Array {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new RangeError(
          `Cannot make ${n} random bytes: expected a non-negative integer`,
        );
      }
      const out = new Uint8Array(n);
      for (let off = 0; off < n; off += CHUNK) {
        crypto.getRandomValues(out.subarray(off, Math.min(off + CHUNK, n)));
      }
      return out;
    },
  };
}
