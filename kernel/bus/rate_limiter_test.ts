import assert from "node:assert/strict";
import { TokenBucket } from "./rate_limiter.ts";

Deno.test({
  name:
    "`TokenBucket.take()` allows a burst, then refuses until time refills it",
  permissions: "none",
  fn() {
    const b = new TokenBucket({ perSecond: 100, burst: 5 }, 1_000);
    for (let i = 0; i < 5; i++) assert.ok(b.take(1_000), `token ${i}`);
    assert.ok(!b.take(1_000));
    assert.ok(!b.take(1_009)); // 0.9 of a token
    assert.ok(b.take(1_010));
    assert.ok(!b.take(1_010));
  },
});

Deno.test({
  name:
    "`TokenBucket.take()` never holds more than the burst after a long pause",
  permissions: "none",
  fn() {
    const b = new TokenBucket({ perSecond: 1_000, burst: 3 }, 0);
    let n = 0;
    while (b.take(60_000)) n++;
    assert.equal(n, 3);
  },
});

Deno.test({
  name: "`TokenBucket.take()` refills nothing when the clock goes backwards",
  permissions: "none",
  fn() {
    const b = new TokenBucket({ perSecond: 10, burst: 1 }, 10_000);
    assert.ok(b.take(10_000));
    assert.ok(!b.take(0));
    assert.ok(!b.take(10_050));
    assert.ok(b.take(10_100));
  },
});

Deno.test({
  name: "`TokenBucket` rejects a non-positive rate or a burst below one",
  permissions: "none",
  fn() {
    assert.throws(
      () => new TokenBucket({ perSecond: 0, burst: 1 }, 0),
      RangeError,
    );
    assert.throws(
      () => new TokenBucket({ perSecond: NaN, burst: 1 }, 0),
      RangeError,
    );
    assert.throws(
      () => new TokenBucket({ perSecond: 1, burst: 0.5 }, 0),
      RangeError,
    );
  },
});
