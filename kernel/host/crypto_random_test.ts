import assert from "node:assert/strict";
import { cryptoRandom } from "./crypto_random.ts";

Deno.test({
  name: "`cryptoRandom().bytes()` returns n bytes that differ between calls",
  permissions: "none",
  fn() {
    const r = cryptoRandom();
    assert.equal(r.bytes(0).length, 0);
    const a = r.bytes(32);
    const b = r.bytes(32);
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
  },
});

Deno.test({
  name: "`cryptoRandom().bytes()` fills requests above 65536 bytes completely",
  permissions: "none",
  fn() {
    const n = 65_536 * 3 + 17;
    const out = cryptoRandom().bytes(n);
    assert.equal(out.length, n);
    // Each 64 KiB chunk (and the tail) was filled: none is left all-zero.
    for (
      const [start, end] of [
        [0, 65_536],
        [65_536, 131_072],
        [131_072, 196_608],
        [196_608, n],
      ] as const
    ) {
      assert.ok(
        out.subarray(start, end).some((x) => x !== 0),
        `chunk ${start}..${end} is all zero`,
      );
    }
  },
});

Deno.test({
  name: "`cryptoRandom().bytes()` rejects a negative or fractional length",
  permissions: "none",
  fn() {
    const r = cryptoRandom();
    assert.throws(() => r.bytes(-1), RangeError);
    assert.throws(() => r.bytes(1.5), RangeError);
    assert.throws(() => r.bytes(Number.NaN), RangeError);
  },
});

Deno.test({
  name:
    "`cryptoRandom().bytes()` never hands out the same pooled bytes twice, across pool refills",
  permissions: "none",
  fn() {
    const r = cryptoRandom();
    const seen = new Set<string>();
    // 16-byte ids over several 4 KiB refills; a repeat would be a reused range.
    for (let i = 0; i < 2_000; i++) {
      const id = r.bytes(16).toHex();
      assert.ok(!seen.has(id), `bytes repeated at request ${i}`);
      seen.add(id);
    }
    // Odd sizes that straddle the end of the pool are still full-length and fresh.
    for (let i = 0; i < 300; i++) {
      const b = r.bytes(1 + (i % 64));
      assert.equal(b.length, 1 + (i % 64));
    }
    const a = r.bytes(64);
    assert.ok(a.some((x) => x !== 0));
    assert.notDeepEqual(a, r.bytes(64));
  },
});
