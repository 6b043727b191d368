/**
 * The {@linkcode Random} port on the Web Crypto CSPRNG.
 *
 * @module
 */
import type { Random } from "../core/ports.ts";

/** `crypto.getRandomValues` fills at most this many bytes per call. */
const CHUNK = 65_536;

/**
 * Requests up to this size are served from a pool refilled 4 KiB at a time:
 * one `getRandomValues` call (an op into the runtime, a few µs) per ~256 audit
 * entry ids instead of one per id. Each pooled byte is handed out once and
 * never kept by the pool after (the served range is zeroed).
 */
const POOLED_MAX = 64;
const POOL_BYTES = 4_096;

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
  const pool = new Uint8Array(POOL_BYTES);
  let used = POOL_BYTES;
  return {
    bytes(n: number): Uint8Array {
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new RangeError(
          `Cannot make ${n} random bytes: expected a non-negative integer`,
        );
      }
      if (n <= POOLED_MAX) {
        if (used + n > POOL_BYTES) {
          crypto.getRandomValues(pool);
          used = 0;
        }
        const out = pool.slice(used, used + n);
        pool.fill(0, used, used + n);
        used += n;
        return out;
      }
      const out = new Uint8Array(n);
      for (let off = 0; off < n; off += CHUNK) {
        crypto.getRandomValues(out.subarray(off, Math.min(off + CHUNK, n)));
      }
      return out;
    },
  };
}
