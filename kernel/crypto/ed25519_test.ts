import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { noble } from "./_noble.ts";
import { SMALL_ORDER_Y } from "./_public_key_check.ts";
import {
  sign,
  SIGNATURE_LENGTH,
  signSync,
  verify,
  verifySync,
} from "./ed25519.ts";
import { type KeyPair, keyPairFromSeed } from "./key_pair.ts";

/** RFC 8032 §7.1, TEST 1–3 (Ed25519): secret key, public key, message, signature. */
const RFC8032 = [
  {
    name: "TEST 1",
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature:
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155" +
      "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    name: "TEST 2",
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature:
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    name: "TEST 3",
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature:
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
      "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

/** The order of the prime subgroup, L = 2^252 + 27742317777372353535851937790883648493. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

const pairA = keyPairFromSeed(new Uint8Array(32).fill(0xa1));
const pairB = keyPairFromSeed(new Uint8Array(32).fill(0xb2));
const MESSAGE = new TextEncoder().encode("append audit entry 42");

/** Both verifiers, so that every rejection test covers both implementations. */
const VERIFIERS = [
  { impl: "WebCrypto", verify },
  {
    impl: "noble",
    // A function, not an arrow returning Promise.resolve(...), so that a synchronous
    // throw becomes a rejection as with WebCrypto.
    verify(p: Uint8Array, m: Uint8Array, s: Uint8Array): Promise<boolean> {
      try {
        return Promise.resolve(verifySync(p, m, s));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  },
];

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

for (const v of RFC8032) {
  Deno.test({
    name: `\`sign()\` and \`signSync()\` reproduce RFC 8032 §7.1 ${v.name}`,
    permissions: "none",
    async fn() {
      const pair = keyPairFromSeed(Uint8Array.fromHex(v.secret));
      const message = Uint8Array.fromHex(v.message);
      assert.equal(pair.publicKey.toHex(), v.public);
      assert.equal((await sign(pair, message)).toHex(), v.signature);
      assert.equal(signSync(pair, message).toHex(), v.signature);
    },
  });

  Deno.test({
    name: `\`verify()\` and \`verifySync()\` accept RFC 8032 §7.1 ${v.name}`,
    permissions: "none",
    async fn() {
      const args = [
        Uint8Array.fromHex(v.public),
        Uint8Array.fromHex(v.message),
        Uint8Array.fromHex(v.signature),
      ] as const;
      assert.equal(await verify(...args), true);
      assert.equal(verifySync(...args), true);
    },
  });
}

Deno.test({
  name:
    "`sign()` (WebCrypto) and `signSync()` (noble) give byte-identical signatures",
  permissions: "none",
  async fn() {
    for (const length of [0, 1, 31, 64, 1000, 100_000]) {
      for (const pair of [pairA, pairB]) {
        const message = Uint8Array.from(
          { length },
          (_, i) => (i * 7 + length) & 0xff,
        );
        const web = await sign(pair, message);
        const pure = signSync(pair, message);
        assert.equal(web.length, SIGNATURE_LENGTH);
        assert.deepEqual(web, pure, `length ${length}`);
      }
    }
  },
});

Deno.test({
  name:
    "`verifySync()` accepts WebCrypto signatures and `verify()` accepts noble signatures",
  permissions: "none",
  async fn() {
    const web = await sign(pairA, MESSAGE);
    const pure = signSync(pairA, MESSAGE);
    assert.equal(verifySync(pairA.publicKey, MESSAGE, web), true);
    assert.equal(await verify(pairA.publicKey, MESSAGE, pure), true);
  },
});

for (const { impl, verify: check } of VERIFIERS) {
  Deno.test({
    name: `\`verify\` (${impl}) rejects a tampered message`,
    permissions: "none",
    async fn() {
      const sig = signSync(pairA, MESSAGE);
      for (const bit of [0, 7, 8 * MESSAGE.length - 1]) {
        assert.equal(
          await check(pairA.publicKey, flipBit(MESSAGE, bit), sig),
          false,
        );
      }
      const longer = new Uint8Array([...MESSAGE, 0]);
      assert.equal(await check(pairA.publicKey, longer, sig), false);
      assert.equal(
        await check(pairA.publicKey, MESSAGE.subarray(1), sig),
        false,
      );
    },
  });

  Deno.test({
    name: `\`verify\` (${impl}) rejects a signature with any flipped bit`,
    permissions: "none",
    async fn() {
      const sig = signSync(pairA, MESSAGE);
      // Bits in R (0..255) and in S (256..511), including the top bits.
      for (const bit of [0, 1, 100, 254, 255, 256, 300, 500, 509, 510, 511]) {
        assert.equal(
          await check(pairA.publicKey, MESSAGE, flipBit(sig, bit)),
          false,
          `bit ${bit}`,
        );
      }
    },
  });

  Deno.test({
    name: `\`verify\` (${impl}) rejects a signature made by another key`,
    permissions: "none",
    async fn() {
      const sig = signSync(pairB, MESSAGE);
      assert.equal(await check(pairA.publicKey, MESSAGE, sig), false);
      assert.equal(await check(pairB.publicKey, MESSAGE, sig), true);
    },
  });

  Deno.test({
    name:
      `\`verify\` (${impl}) returns false for a signature that is not 64 bytes`,
    permissions: "none",
    async fn() {
      const sig = signSync(pairA, MESSAGE);
      for (
        const bad of [
          new Uint8Array(0),
          sig.subarray(0, 63),
          new Uint8Array([...sig, 0]),
        ]
      ) {
        assert.equal(await check(pairA.publicKey, MESSAGE, bad), false);
      }
    },
  });

  Deno.test({
    name:
      `\`verify\` (${impl}) throws KEY_INVALID for a public key that is not 32 bytes`,
    permissions: "none",
    async fn() {
      const sig = signSync(pairA, MESSAGE);
      for (const length of [0, 31, 33, 64]) {
        await assert.rejects(
          () => check(new Uint8Array(length), MESSAGE, sig),
          (err) =>
            KernelError.is(err, "KEY_INVALID") &&
            err.message.includes(`got ${length} bytes`),
        );
      }
    },
  });

  Deno.test({
    name: `\`verify\` (${impl}) rejects a malleated signature with S + L`,
    permissions: "none",
    async fn() {
      const sig = signSync(pairA, MESSAGE);
      let s = 0n;
      for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
      s += L;
      assert.ok(s < 1n << 256n, "S + L still fits in 32 bytes for this key");
      const malleated = sig.slice();
      for (let i = 0; i < 32; i++) {
        malleated[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
      }
      assert.equal(await check(pairA.publicKey, MESSAGE, malleated), false);
    },
  });

  Deno.test({
    name:
      `\`verify\` (${impl}) rejects the identity-key forgery that verifies any message`,
    permissions: "none",
    async fn() {
      const identity = new Uint8Array(32);
      identity[0] = 1;
      const forged = new Uint8Array(64);
      forged[0] = 1; // R = identity, S = 0
      for (const text of ["pay mallory", "", "rotate key"]) {
        const message = new TextEncoder().encode(text);
        assert.equal(await check(identity, message, forged), false);
      }
    },
  });

  Deno.test({
    name:
      `\`verify\` (${impl}) rejects every small-order and non-canonical public key`,
    permissions: "none",
    async fn() {
      const forged = new Uint8Array(64);
      forged[0] = 1;
      const keys: Uint8Array[] = [];
      for (const y of SMALL_ORDER_Y) {
        const key = Uint8Array.fromHex(y);
        keys.push(key, flipBit(key, 255));
      }
      // y = p, p + 1 (non-canonical encodings of small-order points) and y = p + 3.
      for (const low of [0xed, 0xee, 0xf0]) {
        const key = new Uint8Array(32).fill(0xff);
        key[0] = low;
        key[31] = 0x7f;
        keys.push(key, flipBit(key, 255));
      }
      for (const key of keys) {
        for (const sig of [forged, signSync(pairA, MESSAGE)]) {
          assert.equal(await check(key, MESSAGE, sig), false, key.toHex());
        }
      }
    },
  });
}

Deno.test({
  name:
    "`verify()` screening matters: raw WebCrypto accepts the identity-key forgery",
  permissions: "none",
  async fn() {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forged = new Uint8Array(64);
    forged[0] = 1;
    const key = await crypto.subtle.importKey(
      "raw",
      identity,
      "Ed25519",
      false,
      ["verify"],
    );
    const accepted = await crypto.subtle.verify(
      "Ed25519",
      key,
      forged,
      MESSAGE,
    );
    assert.equal(
      accepted,
      true,
      "if WebCrypto starts rejecting this, the screen is redundant",
    );
  },
});

Deno.test({
  name:
    "`SMALL_ORDER_Y` lists exactly the y coordinates of the torsion subgroup",
  permissions: "none",
  fn() {
    const { Point } = noble();
    // [L]Q is the torsion component of Q; a point Q with a full order-8 component
    // generates all eight small-order points.
    const torsion = new Set<string>();
    for (let i = 1; torsion.size < 5 && i < 64; i++) {
      const q = Point.BASE.multiply(BigInt(i)).add(
        Point.fromBytes(Uint8Array.fromHex(SMALL_ORDER_Y[2]!)),
      );
      const t = q.multiply(L - 1n, false).add(q);
      let p = t;
      for (let k = 0; k < 8; k++) {
        const y = p.toBytes();
        y[31]! &= 0x7f;
        torsion.add(y.toHex());
        p = p.add(t);
      }
    }
    assert.deepEqual([...torsion].sort(), [...SMALL_ORDER_Y].sort());
    for (const y of SMALL_ORDER_Y) {
      assert.equal(
        Point.fromBytes(Uint8Array.fromHex(y), true).isSmallOrder(),
        true,
      );
    }
  },
});

Deno.test({
  name: "`verify()` accepts a message backed by a SharedArrayBuffer",
  permissions: "none",
  async fn() {
    const shared = new Uint8Array(new SharedArrayBuffer(MESSAGE.length));
    shared.set(MESSAGE);
    const sig = await sign(pairA, shared);
    assert.equal(await verify(pairA.publicKey, shared, sig), true);
  },
});

Deno.test({
  name:
    "`sign()` signs with the cached native key of a key pair, byte-identical to WebCrypto",
  permissions: "none",
  async fn() {
    const pair: KeyPair = keyPairFromSeed(new Uint8Array(32).fill(5));
    const first = pair.nativeSigningKey();
    for (let i = 0; i < 64; i++) {
      const seed = crypto.getRandomValues(new Uint8Array(32));
      const p = keyPairFromSeed(seed);
      const msg = crypto.getRandomValues(new Uint8Array(i * 7));
      const web = new Uint8Array(
        await crypto.subtle.sign("Ed25519", await p.signingKey(), msg),
      );
      assert.equal((await sign(p, msg)).toHex(), web.toHex());
    }
    await sign(pair, MESSAGE);
    assert.equal(pair.nativeSigningKey(), first);
    const key = await pair.signingKey();
    assert.equal(key.extractable, false);
    assert.deepEqual(key.usages, ["sign"]);
  },
});
