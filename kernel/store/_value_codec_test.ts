import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { decodeValue, encodeValue } from "./_value_codec.ts";

const opts = { maxBytes: 65_536, what: '["ns","k"]' };

Deno.test({
  name:
    "`encodeValue()` round-trips JSON values and bytes through `decodeValue()`",
  permissions: "none",
  fn() {
    for (
      const v of [null, true, false, 0, -1.5, "", "é😀", [], [1, [2, {
        a: null,
      }]], { b: 1, a: "x" }]
    ) {
      assert.deepEqual(decodeValue(encodeValue(v, opts), "k"), v);
    }
    const bytes = new Uint8Array([0, 1, 255]);
    const back = decodeValue(encodeValue(bytes, opts), "k");
    assert.deepEqual(back, bytes);
    assert.notEqual(back, bytes);
    assert.deepEqual(
      decodeValue(encodeValue(new Uint8Array(0), opts), "k"),
      new Uint8Array(0),
    );
  },
});

Deno.test({
  name:
    "`encodeValue()` stores canonical JSON: sorted keys, undefined properties dropped",
  permissions: "none",
  fn() {
    const enc = encodeValue({ b: 1, a: 2, u: undefined } as never, opts);
    assert.equal(new TextDecoder().decode(enc.subarray(1)), '{"a":2,"b":1}');
    assert.equal(enc[0], 0x01);
    assert.equal(encodeValue(new Uint8Array([7]), opts)[0], 0x00);
  },
});

Deno.test({
  name:
    "`encodeValue()` rejects values JSON cannot represent instead of altering them",
  permissions: "none",
  fn() {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: unknown[] = [
      NaN,
      Infinity,
      undefined,
      1n,
      () => 1,
      new Date(0),
      new Map(),
      [1, , 3],
      cyclic,
      {
        x: Symbol("s"),
      },
    ];
    for (const v of bad) {
      assert.throws(
        () => encodeValue(v as never, opts),
        (e: unknown) =>
          KernelError.is(e, "CANONICAL_JSON_UNSUPPORTED") &&
          e.message.includes('["ns","k"]'),
        String(v),
      );
    }
  },
});

Deno.test({
  name:
    "`encodeValue()` rejects a value nested deeper than the stack as bad input",
  permissions: "none",
  fn() {
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.throws(
      () => encodeValue(deep as never, opts),
      (e: unknown) => KernelError.is(e, "CANONICAL_JSON_UNSUPPORTED"),
    );
  },
});

Deno.test({
  name:
    "`encodeValue()` enforces the size limit on the encoded bytes exactly, never truncating",
  permissions: "none",
  fn() {
    assert.equal(encodeValue(new Uint8Array(65_535), opts).byteLength, 65_536);
    assert.throws(
      () => encodeValue(new Uint8Array(65_536), opts),
      (e: unknown) =>
        KernelError.is(e, "STORE_VALUE_TOO_LARGE") && e.data?.size === 65_537 &&
        e.data?.limit === 65_536 &&
        /65537 bytes encoded at \["ns","k"\] as the limit is 65536/.test(
          e.message,
        ),
    );
    // "€" is 3 UTF-8 bytes: the JSON string "€€…" with quotes.
    const fits = "€".repeat(21_844); // 65532 + 2 quotes + tag = 65535
    assert.equal(encodeValue(fits, opts).byteLength, 65_535);
    assert.throws(
      () => encodeValue("€".repeat(21_845), opts),
      (e: unknown) => KernelError.is(e, "STORE_VALUE_TOO_LARGE"),
    );
  },
});

Deno.test({
  name: "`decodeValue()` reports a value it did not write as INTERNAL",
  permissions: "none",
  fn() {
    const internal = (e: unknown) => KernelError.is(e, "INTERNAL");
    assert.throws(() => decodeValue("plain", "k"), internal);
    assert.throws(() => decodeValue(new Uint8Array(0), "k"), internal);
    assert.throws(
      () => decodeValue(new Uint8Array([9, 1]), "k"),
      /tag 0x09 is unknown/,
    );
    assert.throws(
      () => decodeValue(new Uint8Array([1, 0x7b]), "k"),
      /does not parse/,
    );
    assert.throws(() => decodeValue(new Uint8Array([1, 0xff]), "k"), internal);
  },
});
