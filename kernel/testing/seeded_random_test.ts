import assert from "node:assert/strict";
import { SeededRandom } from "./seeded_random.ts";

Deno.test({
  name: "`SeededRandom` matches the SplitMix64 reference output for seed 0",
  permissions: "none",
  fn() {
    // First SplitMix64 output for seed 0 is 0xe220a8397b1dcdaf, taken little-endian.
    assert.deepEqual(
      new SeededRandom(0).bytes(8),
      new Uint8Array([0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2]),
    );
  },
});

Deno.test({
  name:
    "`SeededRandom` gives the same stream for the same seed, however it is split",
  permissions: "none",
  fn() {
    const whole = new SeededRandom(42n).bytes(40);
    const parts = new SeededRandom(42);
    const split = new Uint8Array([
      ...parts.bytes(3),
      ...parts.bytes(0),
      ...parts.bytes(13),
      ...parts.bytes(24),
    ]);
    assert.deepEqual(split, whole);
    assert.notDeepEqual(new SeededRandom(43).bytes(40), whole);
  },
});

Deno.test({
  name: "`SeededRandom` rejects a bad seed or length",
  permissions: "none",
  fn() {
    assert.throws(() => new SeededRandom(1.5), RangeError);
    assert.throws(() => new SeededRandom(0).bytes(-1), RangeError);
  },
});
