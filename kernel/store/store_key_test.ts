import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import type { StoreKey } from "./store.ts";
import {
  decodeKey,
  encodeKey,
  formatKey,
  keyId,
  keySize,
  validateKey,
} from "./store_key.ts";

function rejects(
  key: unknown,
  pattern: RegExp,
  options: { prefix?: boolean } = {},
): void {
  assert.throws(
    () => validateKey(key, options),
    (e: unknown) =>
      KernelError.is(e, "STORE_KEY_INVALID") && pattern.test(e.message),
  );
}

Deno.test({
  name:
    "`validateKey()` accepts strings and safe integers and returns a frozen normalised copy",
  permissions: "none",
  fn() {
    const input = ["ns", "a", -0, 42, Number.MAX_SAFE_INTEGER, -7];
    const out = validateKey(input);
    assert.deepEqual(out, ["ns", "a", 0, 42, Number.MAX_SAFE_INTEGER, -7]);
    assert.ok(Object.is(out[2], 0));
    assert.ok(Object.isFrozen(out));
    input[1] = "changed";
    assert.equal(out[1], "a");
  },
});

Deno.test({
  name: "`validateKey()` rejects a namespace alone unless asked for a prefix",
  permissions: "none",
  fn() {
    rejects(["ns"], /no part after the namespace/);
    assert.deepEqual(validateKey(["ns"], { prefix: true }), ["ns"]);
    assert.deepEqual(validateKey(["ns", "a"], { prefix: true }), ["ns", "a"]);
  },
});

Deno.test({
  name: "`validateKey()` rejects a bad namespace, naming why",
  permissions: "none",
  fn() {
    rejects("ns/a", /expected an array/);
    rejects([], /namespace is not a string/);
    rejects([1, "a"], /namespace is not a string/);
    rejects(["", "a"], /the namespace is an empty string/);
    rejects(["a\0b", "c"], /the namespace contains a NUL/);
    rejects(["n".repeat(257), "a"], /namespace is over 256 UTF-8 bytes/);
    assert.doesNotThrow(() => validateKey(["n".repeat(256), "a"]));
    // 86 × "€" is 258 UTF-8 bytes but only 86 UTF-16 code units.
    rejects(["€".repeat(86), "a"], /over 256 UTF-8 bytes/);
  },
});

Deno.test({
  name:
    "`validateKey()` rejects empty, NUL-bearing and non-string/non-integer parts, naming the part",
  permissions: "none",
  fn() {
    rejects(["ns", ""], /part 1 is an empty string/);
    rejects(["ns", "a", "b\0"], /part 2 contains a NUL/);
    rejects(["ns", 1.5], /part 1 \(1.5\) is not a safe integer/);
    rejects(["ns", NaN], /not a safe integer/);
    rejects(["ns", Infinity], /not a safe integer/);
    rejects(["ns", 2 ** 53], /not a safe integer/);
    rejects(["ns", true], /part 1 is a boolean/);
    rejects(["ns", 1n], /part 1 is a bigint/);
    rejects(["ns", new Uint8Array(1)], /part 1 is a Uint8Array/);
    rejects(["ns", null], /part 1 is null/);
    rejects(["ns", undefined], /part 1 is undefined/);
    rejects(["ns", { a: 1 }], /part 1 is an object/);
  },
});

Deno.test({
  name:
    "`validateKey()` rejects lone surrogates, which would collide with U+FFFD after UTF-8 encoding",
  permissions: "none",
  fn() {
    rejects(["ns", "\ud800"], /part 1 contains a lone surrogate/);
    rejects(["ns", "a\udc00b"], /lone surrogate/);
    rejects(["\ud83d", "a"], /the namespace contains a lone surrogate/);
    assert.doesNotThrow(() => validateKey(["ns", "\ud83d\ude00"])); // a proper pair (😀)
  },
});

Deno.test({
  name: "`validateKey()` enforces the encoded size limit exactly",
  permissions: "none",
  fn() {
    // "ns" costs 4; a string part costs length + 2: 4 + 2042 + 2 = 2048.
    const max: StoreKey = ["ns", "x".repeat(2042)];
    assert.equal(keySize(max), 2048);
    assert.doesNotThrow(() => validateKey(max));
    assert.throws(
      () => validateKey(["ns", "x".repeat(2043)]),
      (e: unknown) =>
        KernelError.is(e, "STORE_KEY_INVALID") &&
        /2049 bytes encoded \(limit 2048\)/.test(e.message) &&
        e.data?.size === 2049,
    );
    assert.throws(
      () => validateKey(["ns", "abc"], { maxKeyBytes: 8 }),
      /9 bytes encoded \(limit 8\)/,
    );
  },
});

Deno.test({
  name: "`keySize()` counts UTF-8 bytes and 9 bytes per number",
  permissions: "none",
  fn() {
    assert.equal(keySize(["a", "b"]), 6);
    assert.equal(keySize(["a", "€"]), 3 + 5);
    assert.equal(keySize(["a", "😀"]), 3 + 6);
    assert.equal(keySize(["a", 1, -1]), 3 + 18);
  },
});

Deno.test({
  name: "`formatKey()` shortens long parts and many parts, and never throws",
  permissions: "none",
  fn() {
    assert.equal(
      formatKey(["ns", "y".repeat(100)]),
      `["ns","${"y".repeat(40)}…"]`,
    );
    assert.equal(
      formatKey(Array.from({ length: 10 }, (_, i) => i)),
      "[0,1,2,3,4,5,6,7,…2 more]",
    );
    assert.equal(formatKey("nope"), "string");
    assert.equal(formatKey(["ns", 1n, null]), '["ns",bigint,null]');
  },
});

Deno.test({
  name: "`keyId()` keeps namespaces and part boundaries apart",
  permissions: "none",
  fn() {
    const ids = new Set([
      keyId(["a:b", "c"]),
      keyId(["a", "b:c"]),
      keyId(["a", "b", "c"]),
      keyId(["ab", "c"]),
      keyId(["a", "1"]),
      keyId(["a", 1]),
    ]);
    assert.equal(ids.size, 6);
  },
});

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

Deno.test({
  name:
    "`encodeKey()` sorts keys in exactly the order Deno KV lists them, and `decodeKey()` inverts it",
  permissions: "none",
  async fn() {
    const parts: (string | number)[] = [
      "a",
      "ab",
      "b",
      "é",
      "\u{1F600}",
      "\uFFFF",
      "10",
      "2",
      0,
      1,
      2,
      10,
      -1,
      -2,
      -(2 ** 40),
      2 ** 40,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    const keys: StoreKey[] = [];
    for (const p of parts) {
      keys.push(["ns", p]);
      for (const q of ["x", 3, -5]) keys.push(["ns", p, q]);
    }
    const kv = await Deno.openKv(":memory:");
    try {
      for (const k of keys) await kv.set(k, 1);
      const listed: (readonly unknown[])[] = [];
      for await (const e of kv.list({ prefix: ["ns"] })) listed.push(e.key);
      const sorted = [...keys].sort((a, b) =>
        compareBytes(encodeKey(a), encodeKey(b))
      );
      assert.deepEqual(sorted, listed);
    } finally {
      kv.close();
    }
    for (const k of keys) {
      assert.equal(encodeKey(k).length, keySize(k));
      assert.deepEqual(decodeKey(encodeKey(k)), k);
    }
  },
});

Deno.test({
  name: "a key's encoding is a byte prefix of the encodings of keys under it",
  permissions: "none",
  fn() {
    const p = encodeKey(["ns", "a"]);
    for (const k of [["ns", "a", "b"], ["ns", "a", 1]] as StoreKey[]) {
      assert.deepEqual(encodeKey(k).subarray(0, p.length), p);
    }
    assert.notDeepEqual(encodeKey(["ns", "ab"]).subarray(0, p.length), p);
  },
});

Deno.test({
  name: "`decodeKey()` refuses bytes that are not a key encoding",
  permissions: "none",
  fn() {
    for (const bad of [[0x02, 0x61], [0x21, 1, 2], [0x07], [0x02, 0xff, 0]]) {
      assert.throws(
        () => decodeKey(new Uint8Array(bad)),
        (e: unknown) => KernelError.is(e, "INTERNAL"),
      );
    }
  },
});

Deno.test({
  name:
    "`decodeKey()` reads a key at any offset of a shared buffer and leaves it intact",
  permissions: "none",
  fn() {
    const key: StoreKey = ["ns", -7, "a", 2 ** 40];
    const enc = encodeKey(key);
    const pool = new Uint8Array(enc.length + 13);
    pool.set(enc, 13);
    const view = pool.subarray(13);
    assert.deepEqual(decodeKey(view), key);
    assert.deepEqual(view, enc);
  },
});
