import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { blake3Hex } from "./blake3.ts";
import {
  keyId,
  parseKeyId,
  publicKeyFromBase64,
  publicKeyToBase64,
} from "./key_id.ts";

/** RFC 8032 §7.1 TEST 1 public key. */
const PUBLIC = Uint8Array.fromHex(
  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
);

Deno.test({
  name: "`keyId()` is the first 8 bytes of BLAKE3(public key) in hex",
  permissions: "none",
  fn() {
    const id = keyId(PUBLIC);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(id, blake3Hex(PUBLIC).slice(0, 16));
    // Pinned (computed independently with hash-wasm) so a change of the scheme is noticed.
    assert.equal(id, "6c31041268f47160");
  },
});

Deno.test({
  name: "`keyId()` differs for different public keys",
  permissions: "none",
  fn() {
    const other = PUBLIC.slice();
    other[0]! ^= 1;
    assert.notEqual(keyId(other), keyId(PUBLIC));
  },
});

Deno.test({
  name: "`keyId()` throws KEY_INVALID for a public key that is not 32 bytes",
  permissions: "none",
  fn() {
    for (const length of [0, 31, 33]) {
      assert.throws(
        () => keyId(new Uint8Array(length)),
        (err) => KernelError.is(err, "KEY_INVALID"),
      );
    }
  },
});

Deno.test({
  name: "`parseKeyId()` accepts 16 lower-case hex characters and nothing else",
  permissions: "none",
  fn() {
    assert.equal(parseKeyId("0123456789abcdef"), "0123456789abcdef");
    for (
      const bad of [
        "0123456789ABCDEF",
        "0123456789abcde",
        "0123456789abcdef0",
        "",
        "g123456789abcdef",
        42,
        null,
      ]
    ) {
      assert.throws(
        () => parseKeyId(bad),
        (err) => KernelError.is(err, "INVALID_ID"),
        String(bad),
      );
    }
  },
});

Deno.test({
  name:
    "`publicKeyToBase64()` writes standard padded base64 that `publicKeyFromBase64()` reads back",
  permissions: "none",
  fn() {
    const text = publicKeyToBase64(PUBLIC);
    assert.equal(text, btoa(String.fromCharCode(...PUBLIC)));
    assert.equal(text.length, 44);
    assert.deepEqual(publicKeyFromBase64(text), PUBLIC);
  },
});

Deno.test({
  name:
    "`publicKeyToBase64()` throws KEY_INVALID for a key that is not 32 bytes",
  permissions: "none",
  fn() {
    assert.throws(
      () => publicKeyToBase64(new Uint8Array(33)),
      (err) => KernelError.is(err, "KEY_INVALID"),
    );
  },
});

Deno.test({
  name:
    "`publicKeyFromBase64()` rejects wrong lengths, url-safe, whitespace and non-canonical text",
  permissions: "none",
  fn() {
    const good = publicKeyToBase64(PUBLIC);
    const bad = [
      "",
      good.slice(0, 43), // missing padding
      good + "AAAA", // 35 bytes
      btoa(String.fromCharCode(...new Uint8Array(31))),
      ` ${good}`,
      `${good.slice(0, 20)}\n${good.slice(20)}`,
      good.replaceAll("+", "-").replaceAll("/", "_").replace(/^./, "-"), // url-safe alphabet
      "A".repeat(42) + "B=", // non-zero trailing bits
    ];
    for (const text of bad) {
      assert.throws(
        () => publicKeyFromBase64(text),
        (err) => KernelError.is(err, "KEY_INVALID"),
        JSON.stringify(text),
      );
    }
  },
});
