/**
 * Ed25519 signatures (RFC 8032, pure Ed25519, no context or pre-hash).
 *
 * Two implementations give byte-identical signatures (Ed25519 is
 * deterministic) and the same verdicts:
 *
 * - {@linkcode sign}: native (`node:crypto`, with the key object the
 *   {@linkcode KeyPair} caches), synchronous on the calling thread: about
 *   twice as cheap as a WebCrypto `sign()`, which hops to a blocking thread
 *   pool on every call (a thread wake-up per audit commit on a loaded
 *   machine). The default everywhere.
 * - {@linkcode verify}: WebCrypto, native, about 10× faster than noble.
 * - {@linkcode signSync} / {@linkcode verifySync}: `@noble/ed25519`, pure
 *   JavaScript and synchronous, for code that cannot await.
 *
 * Verification semantics (both paths):
 *
 * - a public key that is not 32 bytes is a caller error: `KEY_INVALID`;
 * - a signature that is not 64 bytes, does not match, or has a non-canonical
 *   `S` (`>= L`) gives `false`, never an exception;
 * - small-order and non-canonically encoded public keys give `false`. WebCrypto
 *   alone would accept them (with the identity point as key, `R = identity,
 *   S = 0` verifies for every message), so {@linkcode verify} screens them
 *   first; {@linkcode verifySync} uses noble's strict mode (`zip215: false`).
 *
 * Residual difference: noble checks the cofactored equation and WebCrypto the
 * cofactorless one. They can disagree only on signatures crafted by the owner
 * of a deliberately malformed (mixed-order) key, never on keys made by
 * {@linkcode KeyPair}.
 *
 * @module
 */
import { sign as nodeSign } from "node:crypto";
import { noble } from "./_noble.ts";
import { checkPublicKeyLength, isWeakPublicKey } from "./_public_key_check.ts";
import type { KeyPair } from "./key_pair.ts";

/** Length in bytes of an Ed25519 signature. */
export const SIGNATURE_LENGTH = 64;

/**
 * Signs a message natively (`node:crypto`, no thread hop; the promise is
 * kept so that callers need not change).
 *
 * @param keyPair The signer.
 * @param message The bytes to sign.
 * @returns The 64-byte signature.
 *
 * @example Sign and verify
 * ```ts
 * import assert from "node:assert/strict";
 * import { sign, verify } from "./ed25519.ts";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * const pair = keyPairFromSeed(new Uint8Array(32).fill(3));
 * const msg = new TextEncoder().encode("hello");
 * const sig = await sign(pair, msg);
 * assert.ok(await verify(pair.publicKey, msg, sig));
 * ```
 */
// deno-lint-ignore require-await -- errors become rejections, as before
export async function sign(
  keyPair: KeyPair,
  message: Uint8Array,
): Promise<Uint8Array> {
  return signNow(keyPair, message);
}

/**
 * {@linkcode sign}, returning the signature at once: the same native signer
 * (`node:crypto`, synchronous on the calling thread), for a caller on a hot
 * path that would only await the promise (the audit log's seal).
 *
 * @param keyPair The signer.
 * @param message The bytes to sign.
 * @returns The 64-byte signature.
 *
 * @example The same signature as `sign()`
 * ```ts
 * import assert from "node:assert/strict";
 * import { sign, signNow } from "./ed25519.ts";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * const pair = keyPairFromSeed(new Uint8Array(32).fill(3));
 * const msg = new TextEncoder().encode("hello");
 * assert.deepEqual(signNow(pair, msg), await sign(pair, msg));
 * ```
 */
export function signNow(keyPair: KeyPair, message: Uint8Array): Uint8Array {
  return new Uint8Array(
    nodeSign(null, bufferOf(message), keyPair.nativeSigningKey()),
  );
}

/**
 * Verifies a signature with WebCrypto.
 *
 * @param publicKey The signer's 32-byte public key.
 * @param message The signed bytes.
 * @param signature The signature to check.
 * @returns `true` only for a valid signature by a non-weak key.
 * @throws {KernelError} `KEY_INVALID` when the public key is not 32 bytes.
 *
 * @example Reject a tampered message
 * ```ts
 * import assert from "node:assert/strict";
 * import { sign, verify } from "./ed25519.ts";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * const pair = keyPairFromSeed(new Uint8Array(32).fill(3));
 * const sig = await sign(pair, new Uint8Array([1, 2, 3]));
 * assert.ok(!(await verify(pair.publicKey, new Uint8Array([1, 2, 4]), sig)));
 * ```
 */
export async function verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  checkPublicKeyLength(publicKey);
  if (!isSignatureShaped(signature) || isWeakPublicKey(publicKey)) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    bufferOf(publicKey),
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  return await crypto.subtle.verify(
    "Ed25519",
    key,
    bufferOf(signature),
    bufferOf(message),
  );
}

/**
 * Signs a message with `@noble/ed25519` (pure JavaScript, synchronous).
 *
 * @param keyPair The signer.
 * @param message The bytes to sign.
 * @returns The 64-byte signature, identical to {@linkcode sign}'s.
 *
 * @example Same signature as WebCrypto
 * ```ts
 * import assert from "node:assert/strict";
 * import { sign, signSync } from "./ed25519.ts";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * const pair = keyPairFromSeed(new Uint8Array(32).fill(3));
 * const msg = new Uint8Array([42]);
 * assert.ok(signSync(pair, msg).toHex() === (await sign(pair, msg)).toHex());
 * ```
 */
export function signSync(keyPair: KeyPair, message: Uint8Array): Uint8Array {
  const seed = keyPair.exportSeed();
  try {
    return noble().sign(message, seed);
  } finally {
    seed.fill(0);
  }
}

/**
 * Verifies a signature with `@noble/ed25519` in strict RFC 8032 mode.
 *
 * @param publicKey The signer's 32-byte public key.
 * @param message The signed bytes.
 * @param signature The signature to check.
 * @returns `true` only for a valid signature by a non-weak key.
 * @throws {KernelError} `KEY_INVALID` when the public key is not 32 bytes.
 *
 * @example Verify synchronously
 * ```ts
 * import assert from "node:assert/strict";
 * import { signSync, verifySync } from "./ed25519.ts";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * const pair = keyPairFromSeed(new Uint8Array(32).fill(3));
 * const msg = new Uint8Array([42]);
 * assert.ok(verifySync(pair.publicKey, msg, signSync(pair, msg)));
 * ```
 */
export function verifySync(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  checkPublicKeyLength(publicKey);
  if (!isSignatureShaped(signature)) return false;
  return noble().verify(signature, message, publicKey, { zip215: false });
}

function isSignatureShaped(signature: unknown): signature is Uint8Array {
  return signature instanceof Uint8Array &&
    signature.length === SIGNATURE_LENGTH;
}

/** WebCrypto takes `ArrayBuffer`-backed views only; copy anything else (e.g. shared memory). */
function bufferOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Expected a Uint8Array, got ${typeof bytes}`);
  }
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}
