/**
 * Ed25519 key pairs. A {@linkcode KeyPair} holds its 32-byte seed (the RFC 8032
 * "secret key") in a `#private` field: it never shows up in `console.log`,
 * Deno's inspect or `JSON.stringify`, and leaves the object only through the
 * explicit {@linkcode KeyPair.exportSeed} (used to write key files).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, type KeyObject } from "node:crypto";
import { KernelError } from "../core/errors.ts";
import type { Random } from "../core/ports.ts";
import { noble } from "./_noble.ts";
import { type KeyId, keyId } from "./key_id.ts";

/** Length in bytes of an Ed25519 seed (the RFC 8032 secret key). */
export const SEED_LENGTH = 32;

/**
 * Marks a public key derived in this module ({@linkcode keyPairFromSeedAsync}):
 * only this module can hand one to the constructor.
 */
const DERIVED: unique symbol = Symbol("derived public key");

/** A public key this module derived from the seed it comes with. */
interface Derived {
  readonly [DERIVED]: Uint8Array;
}

/** DER header of a PKCS#8 `OneAsymmetricKey` holding an Ed25519 seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = "302e020100300506032b657004220420";

/**
 * An Ed25519 key pair: the private seed, the derived public key and its key id.
 *
 * @example Derive the RFC 8032 TEST 1 key pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyPair } from "./key_pair.ts";
 * const seed = Uint8Array.fromHex(
 *   "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
 * );
 * const pair = new KeyPair(seed);
 * assert.ok(
 *   pair.publicKey.toHex() ===
 *     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
 * );
 * ```
 */
export class KeyPair {
  readonly #seed: Uint8Array;
  readonly #publicKey: Uint8Array;
  readonly #keyId: KeyId;
  #signingKey: Promise<CryptoKey> | undefined;
  #nativeKey: KeyObject | undefined;

  /**
   * Derives a key pair from a seed. The seed is copied; the caller may wipe
   * its own buffer afterwards.
   *
   * @param seed The 32-byte seed.
   * @throws {KernelError} `KEY_INVALID` when the seed is not 32 bytes.
   */
  constructor(seed: Uint8Array, derived?: Derived) {
    if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
      const got = seed instanceof Uint8Array
        ? `${seed.length} bytes`
        : typeof seed;
      throw new KernelError(
        "KEY_INVALID",
        `Invalid Ed25519 seed: expected ${SEED_LENGTH} bytes, got ${got}`,
        { data: { expected: SEED_LENGTH } },
      );
    }
    this.#seed = seed.slice();
    const given = derived?.[DERIVED];
    this.#publicKey = given instanceof Uint8Array && given.length === 32
      ? given.slice()
      : noble().getPublicKey(this.#seed);
    this.#keyId = keyId(this.#publicKey);
  }

  /** A copy of the 32-byte public key. */
  get publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  /** The key id of the public key (see `key_id.ts`). */
  get keyId(): KeyId {
    return this.#keyId;
  }

  /**
   * Returns a copy of the secret seed. Handle it as a secret: write it only to
   * a 0600 key file and wipe the copy (`fill(0)`) when done.
   *
   * @returns A fresh 32-byte copy of the seed.
   *
   * @example Export and rebuild
   * ```ts
   * import assert from "node:assert/strict";
   * import { KeyPair } from "./key_pair.ts";
   * const pair = new KeyPair(new Uint8Array(32).fill(7));
   * const again = new KeyPair(pair.exportSeed());
   * assert.ok(again.keyId === pair.keyId);
   * ```
   */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }

  /**
   * The seed imported into WebCrypto as a non-extractable signing key. It is
   * imported on first use and cached.
   *
   * @returns The `Ed25519` private `CryptoKey` with usage `sign`.
   *
   * @example Sign with WebCrypto directly
   * ```ts
   * import assert from "node:assert/strict";
   * import { KeyPair } from "./key_pair.ts";
   * const pair = new KeyPair(new Uint8Array(32).fill(7));
   * const key = await pair.signingKey();
   * const sig = await crypto.subtle.sign("Ed25519", key, new Uint8Array([1]));
   * assert.ok(sig.byteLength === 64 && !key.extractable);
   * ```
   */
  signingKey(): Promise<CryptoKey> {
    if (this.#signingKey === undefined) {
      const pending = importSigningKey(this.#seed);
      // Forget a failed import so that the next call retries; the caller of
      // this call still sees the rejection.
      // silent-ok: this branch only resets the cache; `pending` itself is returned.
      pending.catch(() => {
        if (this.#signingKey === pending) this.#signingKey = undefined;
      });
      this.#signingKey = pending;
    }
    return this.#signingKey;
  }

  /**
   * The seed as a `node:crypto` private `KeyObject`, made on first use and
   * cached in a `#private` field: what {@linkcode sign} of `ed25519.ts`
   * signs with, synchronously on the calling thread (a WebCrypto
   * `sign()` hops to a blocking thread pool on every call).
   *
   * @returns The `ed25519` private key object.
   *
   * @example Sign with `node:crypto` directly
   * ```ts
   * import assert from "node:assert/strict";
   * import { sign } from "node:crypto";
   * import { KeyPair } from "./key_pair.ts";
   * const pair = new KeyPair(new Uint8Array(32).fill(7));
   * const key = pair.nativeSigningKey();
   * assert.ok(sign(null, new Uint8Array([1]), key).length === 64);
   * assert.equal(pair.nativeSigningKey(), key);
   * ```
   */
  nativeSigningKey(): KeyObject {
    if (this.#nativeKey === undefined) {
      const pkcs8 = pkcs8Of(this.#seed);
      try {
        this.#nativeKey = createPrivateKey({
          key: Buffer.from(pkcs8.buffer),
          format: "der",
          type: "pkcs8",
        });
      } finally {
        pkcs8.fill(0);
      }
    }
    return this.#nativeKey;
  }
}

function pkcs8Of(seed: Uint8Array): Uint8Array<ArrayBuffer> {
  const pkcs8 = new Uint8Array(16 + SEED_LENGTH);
  pkcs8.set(Uint8Array.fromHex(PKCS8_ED25519_PREFIX));
  pkcs8.set(seed, 16);
  return pkcs8;
}

async function importSigningKey(seed: Uint8Array): Promise<CryptoKey> {
  const pkcs8 = pkcs8Of(seed);
  try {
    return await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "Ed25519" },
      false,
      ["sign"],
    );
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Generates a fresh key pair from the `Random` port.
 *
 * @param random The randomness source (a seeded fake in tests).
 * @returns A new key pair.
 * @throws {KernelError} `INTERNAL` when the port returns other than 32 bytes.
 *
 * @example Generate a key pair
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKeyPair } from "./key_pair.ts";
 * const random = { bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)) };
 * const pair = generateKeyPair(random);
 * assert.ok(pair.publicKey.length === 32);
 * ```
 */
export function generateKeyPair(random: Random): KeyPair {
  const seed = random.bytes(SEED_LENGTH);
  if (seed.length !== SEED_LENGTH) {
    throw new KernelError(
      "INTERNAL",
      `Cannot generate a key pair as the Random port returned ${seed.length} bytes instead of ${SEED_LENGTH}`,
    );
  }
  try {
    return new KeyPair(seed);
  } finally {
    seed.fill(0);
  }
}

/**
 * Derives the key pair of a 32-byte seed (same as `new KeyPair(seed)`).
 *
 * @param seed The 32-byte seed; it is copied.
 * @returns The key pair.
 * @throws {KernelError} `KEY_INVALID` when the seed is not 32 bytes.
 *
 * @example Same seed, same key id
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyPairFromSeed } from "./key_pair.ts";
 * const a = keyPairFromSeed(new Uint8Array(32).fill(1));
 * const b = keyPairFromSeed(new Uint8Array(32).fill(1));
 * assert.ok(a.keyId === b.keyId);
 * ```
 */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  return new KeyPair(seed);
}

/**
 * Derives the key pair of a 32-byte seed with WebCrypto (native): the same
 * pair as `new KeyPair(seed)`, without the pure-JavaScript base-point
 * tables the first `@noble/ed25519` multiplication of a process builds
 * (tens of milliseconds on every start of the CLI and the daemon).
 *
 * @param seed The 32-byte seed; it is copied before the first `await`.
 * @returns The key pair.
 * @throws {KernelError} `KEY_INVALID` when the seed is not 32 bytes.
 *
 * @example Same pair as the constructor
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyPair, keyPairFromSeedAsync } from "./key_pair.ts";
 * const seed = new Uint8Array(32).fill(5);
 * const pair = await keyPairFromSeedAsync(seed);
 * assert.ok(pair.publicKey.toHex() === new KeyPair(seed).publicKey.toHex());
 * ```
 */
export async function keyPairFromSeedAsync(
  seed: Uint8Array,
): Promise<KeyPair> {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    return new KeyPair(seed); // throws KEY_INVALID
  }
  const own = seed.slice();
  const pkcs8 = new Uint8Array(16 + SEED_LENGTH);
  pkcs8.set(Uint8Array.fromHex(PKCS8_ED25519_PREFIX));
  pkcs8.set(own, 16);
  let publicKey: Uint8Array;
  try {
    const key = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "Ed25519" },
      true,
      ["sign"],
    );
    const jwk = await crypto.subtle.exportKey("jwk", key);
    publicKey = Uint8Array.fromBase64(jwk.x ?? "", { alphabet: "base64url" });
  } finally {
    pkcs8.fill(0);
  }
  try {
    return new KeyPair(own, { [DERIVED]: publicKey });
  } finally {
    own.fill(0);
  }
}
