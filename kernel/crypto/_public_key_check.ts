/**
 * Checks of Ed25519 public-key encodings (private to `kernel/crypto/`).
 *
 * {@linkcode checkPublicKeyLength} rejects anything but 32 bytes.
 *
 * WebCrypto's Ed25519 in Deno accepts small-order public keys: with the
 * identity point as key, the signature `R = identity, S = 0` verifies for
 * EVERY message. noble's strict mode (`zip215: false`) rejects such keys and
 * non-canonical encodings. To make both verification paths agree, and to close
 * that universal forgery, {@linkcode isWeakPublicKey} rejects by byte
 * comparison (no curve arithmetic):
 *
 * - non-canonical encodings, whose y coordinate (sign bit cleared) is `>= p`;
 * - the eight small-order points, identified by their five y coordinates
 *   (0, 1, p-1 and the two order-8 values), whatever the sign bit says.
 *
 * This is the list libsodium uses; `ed25519_test.ts` recomputes it with noble.
 *
 * @module
 */

import { KernelError } from "../core/errors.ts";

/** Length in bytes of an Ed25519 public key. */
export const PUBLIC_KEY_LENGTH = 32;

/**
 * Throws `KEY_INVALID` unless `publicKey` is a 32-byte `Uint8Array`.
 *
 * @param publicKey The candidate key.
 * @throws {KernelError} `KEY_INVALID` when the type or length is wrong.
 */
export function checkPublicKeyLength(publicKey: Uint8Array): void {
  if (
    !(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH
  ) {
    const got = publicKey instanceof Uint8Array
      ? `${publicKey.length} bytes`
      : typeof publicKey;
    throw new KernelError(
      "KEY_INVALID",
      `Invalid Ed25519 public key: expected ${PUBLIC_KEY_LENGTH} bytes, got ${got}`,
      { data: { expected: PUBLIC_KEY_LENGTH } },
    );
  }
}

/** The y coordinates (little-endian, sign bit cleared) of the small-order points. */
export const SMALL_ORDER_Y: readonly string[] = Object.freeze([
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]);

const SMALL_ORDER_BYTES: readonly Uint8Array[] = SMALL_ORDER_Y.map((h) =>
  Uint8Array.fromHex(h)
);

/**
 * Tells whether a 32-byte encoding is non-canonical or a small-order point.
 *
 * @param key A 32-byte public key encoding.
 * @returns `true` when the key must not be used for verification.
 */
export function isWeakPublicKey(key: Uint8Array): boolean {
  return isNonCanonical(key) ||
    SMALL_ORDER_BYTES.some((y) => equalsIgnoringSign(key, y));
}

/** y (sign bit cleared) `>= p = 2^255 - 19`, i.e. `ed ff .. ff 7f` or above. */
function isNonCanonical(key: Uint8Array): boolean {
  if (((key[31] ?? 0) & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) {
    if (key[i] !== 0xff) return false;
  }
  return (key[0] ?? 0) >= 0xed;
}

function equalsIgnoringSign(key: Uint8Array, y: Uint8Array): boolean {
  for (let i = 0; i < 31; i++) {
    if (key[i] !== y[i]) return false;
  }
  return ((key[31] ?? 0) & 0x7f) === y[31];
}
