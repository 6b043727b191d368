/**
 * Cryptography of the kernel: Ed25519 key pairs and signatures, key ids,
 * BLAKE3, and the key files that hold the runtime key.
 *
 * - {@linkcode KeyPair}, {@linkcode generateKeyPair}, {@linkcode keyPairFromSeed}:
 *   key pairs whose 32-byte seed stays in a `#private` field.
 * - {@linkcode sign} / {@linkcode verify} (WebCrypto, the default) and
 *   {@linkcode signSync} / {@linkcode verifySync} (`@noble/ed25519`, pure JS):
 *   byte-identical signatures and the same verdicts.
 * - {@linkcode keyId}: the first 8 bytes of BLAKE3(public key) in hex.
 * - {@linkcode blake3} (pure JS, sync) and {@linkcode createBlake3Hasher}
 *   (WASM, fast): identical 32-byte digests.
 * - {@linkcode loadKeyFile}, {@linkcode saveKeyFile},
 *   {@linkcode loadOrCreateKeyFile}: `keys/runtime.key`, mode 0600.
 *
 * Security model: the seed never appears in inspect/JSON output and is only
 * handed out by `KeyPair.exportSeed()` (to write a key file); temporary seed
 * copies are wiped. Verification is strict RFC 8032: wrong-length signatures,
 * non-canonical `S`, small-order and non-canonical public keys all give
 * `false` (WebCrypto alone would accept the identity key, for which one
 * signature verifies every message). A public key that is not 32 bytes is a
 * caller error, `KEY_INVALID`. Key files are refused when group or others can
 * access them (`KEY_PERMISSIONS_TOO_OPEN`), when they are symlinks or not
 * 32 bytes (`KEY_INVALID`); saving is atomic (exclusive temp file, chmod
 * 0600, rename) and never replaces a key unless asked (`KEY_EXISTS`).
 *
 * @example Sign, verify and name a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPair, keyId, sign, verify, verifySync } from "./mod.ts";
 * const random = { bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)) };
 * const pair = generateKeyPair(random);
 * const message = new TextEncoder().encode("audit entry");
 * const signature = await sign(pair, message);
 * assert.ok(await verify(pair.publicKey, message, signature));
 * assert.ok(verifySync(pair.publicKey, message, signature));
 * assert.equal(keyId(pair.publicKey), pair.keyId);
 * ```
 *
 * @module
 */
export {
  blake3,
  BLAKE3_LENGTH,
  blake3Hex,
  createBlake3Hasher,
} from "./blake3.ts";
export type { Blake3Hasher, CreateBlake3HasherOptions } from "./blake3.ts";
export {
  sign,
  SIGNATURE_LENGTH,
  signSync,
  verify,
  verifySync,
} from "./ed25519.ts";
export {
  KEY_FILE_MODE,
  loadKeyFile,
  loadOrCreateKeyFile,
  RUNTIME_KEY_FILE,
  saveKeyFile,
} from "./key_file.ts";
export type {
  LoadKeyFileOptions,
  LoadOrCreateKeyFileOptions,
  LoadOrCreateKeyFileResult,
  SaveKeyFileOptions,
} from "./key_file.ts";
export {
  keyId,
  parseKeyId,
  publicKeyFromBase64,
  publicKeyToBase64,
} from "./key_id.ts";
export type { KeyId } from "./key_id.ts";
export {
  generateKeyPair,
  KeyPair,
  keyPairFromSeed,
  SEED_LENGTH,
} from "./key_pair.ts";
