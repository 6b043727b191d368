/**
 * BLAKE3 hashing (default 32-byte output; keyed and derive-key modes are not
 * offered).
 *
 * Two implementations give identical digests:
 *
 * - {@linkcode blake3} / {@linkcode blake3Hex}: synchronous, no set-up:
 *   pure JavaScript (`@noble/hashes`) until a WebAssembly hasher exists in
 *   the process, then that one. Fine for small inputs such as audit entries
 *   and public keys.
 * - {@linkcode createBlake3Hasher}: WebAssembly (`hash-wasm`), roughly 8–10×
 *   faster on large inputs, but it must be instantiated once with `await`.
 *   Use it for capsule binaries and other bulk data.
 *
 * @module
 */
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { throwIfAborted } from "../core/abort.ts";

/** Length in bytes of a BLAKE3 digest as used by Astrid. */
export const BLAKE3_LENGTH = 32;

const UTF8: TextEncoder = new TextEncoder();

/**
 * Hashes bytes (or a string, as UTF-8) with BLAKE3, in pure JavaScript.
 *
 * @param data The input; a string is encoded as UTF-8.
 * @returns The 32-byte digest.
 *
 * @example Hash a string
 * ```ts
 * import assert from "node:assert/strict";
 * import { blake3 } from "./blake3.ts";
 * const digest = blake3("hello");
 * assert.ok(digest.length === 32);
 * ```
 */
export function blake3(data: Uint8Array | string): Uint8Array {
  // Once any WebAssembly hasher exists in this process, small inputs use it
  // too (same digests; several times faster than the JavaScript one).
  if (shared !== undefined) return shared(data);
  return nobleBlake3(typeof data === "string" ? UTF8.encode(data) : data);
}

/** The first WebAssembly hasher's `hash`, once one was created. */
let shared: ((data: Uint8Array | string) => Uint8Array) | undefined;

/**
 * Hashes bytes (or a string, as UTF-8) with BLAKE3 and returns lower-case hex.
 *
 * @param data The input; a string is encoded as UTF-8.
 * @returns 64 lower-case hex characters.
 *
 * @example The digest of the empty input
 * ```ts
 * import assert from "node:assert/strict";
 * import { blake3Hex } from "./blake3.ts";
 * assert.ok(
 *   blake3Hex("") === "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
 * );
 * ```
 */
export function blake3Hex(data: Uint8Array | string): string {
  return blake3(data).toHex();
}

/**
 * A reusable BLAKE3 hasher backed by WebAssembly. Each call hashes one whole
 * input; calls cannot interleave because they are synchronous.
 */
export interface Blake3Hasher {
  /**
   * Hashes one input.
   *
   * @param data The input; a string is encoded as UTF-8.
   * @returns A fresh 32-byte digest.
   */
  hash(data: Uint8Array | string): Uint8Array;
  /**
   * Hashes one input and returns lower-case hex.
   *
   * @param data The input; a string is encoded as UTF-8.
   * @returns 64 lower-case hex characters.
   */
  hashHex(data: Uint8Array | string): string;
}

/** Options of {@linkcode createBlake3Hasher}. */
export interface CreateBlake3HasherOptions {
  /** Cancels the set-up. */
  signal?: AbortSignal;
}

/**
 * Instantiates the WebAssembly BLAKE3 hasher (the fast path for bulk data).
 * Keep the result and reuse it: instantiation is the expensive part.
 *
 * @param options Optional cancellation.
 * @returns A {@linkcode Blake3Hasher} giving the same digests as {@linkcode blake3}.
 * @throws {KernelError} `ABORTED` when the signal fires.
 *
 * @example Hash with the fast path
 * ```ts
 * import assert from "node:assert/strict";
 * import { blake3Hex, createBlake3Hasher } from "./blake3.ts";
 * const hasher = await createBlake3Hasher();
 * assert.ok(hasher.hashHex("abc") === blake3Hex("abc"));
 * ```
 */
export async function createBlake3Hasher(
  options: CreateBlake3HasherOptions = {},
): Promise<Blake3Hasher> {
  throwIfAborted(options.signal, "creating the BLAKE3 hasher");
  // Loaded on first use: `hash-wasm` is 1.7 MB of JavaScript (every
  // algorithm's wasm inlined) that a process which never hashes bulk data
  // (the CLI computing the daemon's flags) must not parse at start.
  const { createBLAKE3 } = await import("hash-wasm");
  const wasm = await createBLAKE3(BLAKE3_LENGTH * 8);
  throwIfAborted(options.signal, "creating the BLAKE3 hasher");
  function hash(data: Uint8Array | string): Uint8Array {
    wasm.init();
    wasm.update(data);
    return wasm.digest("binary");
  }
  shared ??= hash;
  return {
    hash,
    hashHex(data: Uint8Array | string): string {
      return hash(data).toHex();
    },
  };
}
