import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import {
  generateKeyPair,
  KeyPair,
  keyPairFromSeed,
  keyPairFromSeedAsync,
  SEED_LENGTH,
} from "./key_pair.ts";

const SEED_HEX =
  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC_HEX =
  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/** A deterministic Random port: 0, 1, 2, ... */
function countingRandom(): { bytes(n: number): Uint8Array } {
  let next = 0;
  return { bytes: (n) => Uint8Array.from({ length: n }, () => next++ & 0xff) };
}

Deno.test({
  name: "`keyPairFromSeed()` derives the RFC 8032 TEST 1 public key",
  permissions: "none",
  fn() {
    const pair = keyPairFromSeed(Uint8Array.fromHex(SEED_HEX));
    assert.equal(pair.publicKey.toHex(), PUBLIC_HEX);
    assert.equal(pair.exportSeed().toHex(), SEED_HEX);
  },
});

Deno.test({
  name:
    "`keyPairFromSeedAsync()` (WebCrypto) derives the same pair as the constructor: RFC 8032 TEST 1 and random seeds",
  permissions: "none",
  async fn() {
    const seed = Uint8Array.fromHex(SEED_HEX);
    const pair = await keyPairFromSeedAsync(seed);
    assert.equal(pair.publicKey.toHex(), PUBLIC_HEX);
    assert.equal(pair.exportSeed().toHex(), SEED_HEX);
    assert.equal(seed.toHex(), SEED_HEX, "the caller's seed is left as is");
    for (let i = 0; i < 20; i++) {
      const s = crypto.getRandomValues(new Uint8Array(32));
      const a = await keyPairFromSeedAsync(s);
      const b = new KeyPair(s);
      assert.equal(a.publicKey.toHex(), b.publicKey.toHex());
      assert.equal(a.keyId, b.keyId);
    }
    await assert.rejects(
      keyPairFromSeedAsync(new Uint8Array(31)),
      (err) => KernelError.is(err, "KEY_INVALID"),
    );
  },
});

Deno.test({
  name:
    "`KeyPair` cannot be handed a public key from outside its module (a forged derived key is ignored)",
  permissions: "none",
  fn() {
    const seed = Uint8Array.fromHex(SEED_HEX);
    const forged = {
      [Symbol("derived public key")]: new Uint8Array(32),
    } as unknown as ConstructorParameters<typeof KeyPair>[1];
    assert.equal(new KeyPair(seed, forged).publicKey.toHex(), PUBLIC_HEX);
  },
});

Deno.test({
  name: "`KeyPair` throws KEY_INVALID for a seed that is not 32 bytes",
  permissions: "none",
  fn() {
    for (const length of [0, 31, 33, 64]) {
      assert.throws(
        () => new KeyPair(new Uint8Array(length)),
        (err) =>
          KernelError.is(err, "KEY_INVALID") &&
          err.message.includes(
            `expected ${SEED_LENGTH} bytes, got ${length} bytes`,
          ),
      );
    }
  },
});

Deno.test({
  name:
    "`KeyPair` never shows its seed through inspect, JSON or string conversion",
  permissions: "none",
  fn() {
    const pair = keyPairFromSeed(Uint8Array.fromHex(SEED_HEX));
    const seedBytes = Array.from(Uint8Array.fromHex(SEED_HEX)).join(", ");
    for (
      const shown of [
        Deno.inspect(pair, { depth: 10, showHidden: true }),
        JSON.stringify(pair),
        String(pair),
      ]
    ) {
      assert.ok(!shown.includes(SEED_HEX), shown);
      assert.ok(!shown.includes(seedBytes.slice(0, 20)), shown);
    }
  },
});

Deno.test({
  name:
    "`KeyPair` copies the seed in and out, and hands out copies of the public key",
  permissions: "none",
  fn() {
    const seed = Uint8Array.fromHex(SEED_HEX);
    const pair = new KeyPair(seed);
    seed.fill(0);
    const exported = pair.exportSeed();
    exported.fill(0);
    const pub = pair.publicKey;
    pub.fill(0);
    assert.equal(pair.exportSeed().toHex(), SEED_HEX);
    assert.equal(pair.publicKey.toHex(), PUBLIC_HEX);
  },
});

Deno.test({
  name: "`generateKeyPair()` draws its seed from the Random port",
  permissions: "none",
  fn() {
    const a = generateKeyPair(countingRandom());
    const b = generateKeyPair(countingRandom());
    assert.equal(a.keyId, b.keyId);
    assert.equal(
      a.exportSeed().toHex(),
      Uint8Array.from({ length: 32 }, (_, i) => i).toHex(),
    );
    const random = countingRandom();
    assert.notEqual(
      generateKeyPair(random).keyId,
      generateKeyPair(random).keyId,
    );
  },
});

Deno.test({
  name:
    "`generateKeyPair()` throws INTERNAL when the Random port returns the wrong length",
  permissions: "none",
  fn() {
    assert.throws(
      () => generateKeyPair({ bytes: () => new Uint8Array(16) }),
      (err) =>
        KernelError.is(err, "INTERNAL") && err.message.includes("16 bytes"),
    );
  },
});

Deno.test({
  name: "`KeyPair.signingKey()` is a cached, non-extractable WebCrypto key",
  permissions: "none",
  async fn() {
    const pair = keyPairFromSeed(Uint8Array.fromHex(SEED_HEX));
    const key = await pair.signingKey();
    assert.equal(await pair.signingKey(), key);
    assert.equal(key.extractable, false);
    assert.equal(key.type, "private");
    await assert.rejects(() => crypto.subtle.exportKey("pkcs8", key));
  },
});
