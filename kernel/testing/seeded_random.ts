/**
 * A deterministic {@linkcode Random} for tests.
 *
 * @module
 */
import type { Random } from "../core/ports.ts";

const MASK64 = (1n << 64n) - 1n;
const GAMMA = 0x9e3779b97f4a7c15n;

/**
 * Deterministic bytes from a seed, using SplitMix64. The same seed always
 * yields the same byte stream (across calls, split however you like).
 * NOT cryptographically secure: tests only.
 *
 * @example Two generators with one seed agree
 * ```ts
 * import { SeededRandom } from "./seeded_random.ts";
 * const a = new SeededRandom(42).bytes(16);
 * const b = new SeededRandom(42).bytes(16);
 * console.assert(a.every((x, i) => x === b[i]));
 * ```
 */
export class SeededRandom implements Random {
  #state: bigint;
  #buffer = new Uint8Array(8);
  #used = 8;

  /**
   * Creates a generator at the start of the stream for `seed`.
   *
   * @param seed Any integer (number or bigint); only its low 64 bits matter.
   * @throws {RangeError} When a number seed is not a safe integer.
   */
  constructor(seed: number | bigint) {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot seed with ${seed}: expected a safe integer`);
    }
    this.#state = BigInt(seed) & MASK64;
  }

  /**
   * Returns the next `n` bytes of the stream.
   *
   * @param n How many bytes.
   * @returns `n` deterministic bytes.
   * @throws {RangeError} When `n` is not a non-negative safe integer.
   */
  bytes(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot make ${n} random bytes: expected a non-negative integer`,
      );
    }
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.#used === 8) this.#refill();
      out[i] = this.#buffer[this.#used++]!;
    }
    return out;
  }

  #refill(): void {
    this.#state = (this.#state + GAMMA) & MASK64;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    z = z ^ (z >> 31n);
    new DataView(this.#buffer.buffer).setBigUint64(0, z, true);
    this.#used = 0;
  }
}
