/**
 * The configured `@noble/ed25519` namespace (private to `kernel/crypto/`).
 *
 * noble v3 ships without a synchronous SHA-512 and throws "hashes.sha512 not
 * set" from `sign`/`verify`/`getPublicKey` until one is supplied. Setting
 * `hashes.sha512` is the library's documented configuration hook, not state of
 * ours: the value is a pure function and every caller wants the same one, so
 * setting it again is harmless. We set it lazily, on first use, instead of as
 * an import side effect.
 *
 * @module
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

/** The noble namespace type. */
export type Noble = typeof ed;

/**
 * Returns `@noble/ed25519` with its synchronous SHA-512 configured.
 *
 * @returns The configured namespace.
 */
export function noble(): Noble {
  if (ed.hashes.sha512 === undefined) {
    ed.hashes.sha512 = sha512;
  }
  return ed;
}
