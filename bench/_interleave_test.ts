import assert from "node:assert/strict";
import {
  interleave,
  passes,
  ratioRow,
  ratios,
  summarize,
} from "./_interleave.ts";

Deno.test({
  name: "interleave() measures every case in every round, rotating the order",
  permissions: "none",
  async fn() {
    const order: string[] = [];
    const t = await interleave({
      a: () => order.push("a"),
      b: () => order.push("b"),
      c: () => order.push("c"),
    }, { rounds: 3, iterations: 2, warmup: 1 });
    assert.deepEqual(order, [
      ..."abc", // warm-up
      ..."aabbcc", // round 0
      ..."bbccaa", // round 1
      ..."ccaabb", // round 2
    ]);
    for (const xs of Object.values(t)) assert.equal(xs.length, 3);
  },
});

Deno.test({
  name:
    "interleave() charges a meter's growth to the case whose batch it grew in, per call",
  permissions: "none",
  async fn() {
    let units = 0;
    const t = await interleave({
      a: () => {
        units += 3;
      },
      b: () => {
        units += 5;
      },
      idle: () => {},
    }, {
      rounds: 4,
      iterations: 10,
      warmup: 2,
      meters: { units: () => units },
    });
    assert.deepEqual(t["a@units"], [3, 3, 3, 3]);
    assert.deepEqual(t["b@units"], [5, 5, 5, 5]);
    assert.deepEqual(t["idle@units"], [0, 0, 0, 0]);
    assert.equal(t.a!.length, 4);
  },
});

Deno.test({
  name:
    "summarize() gives the median, quartiles and extremes of per-round values",
  permissions: "none",
  fn() {
    const s = summarize([5, 1, 4, 2, 3]);
    assert.deepEqual(s, { median: 3, p25: 2, p75: 4, min: 1, max: 5, n: 5 });
    assert.equal(summarize([1, 2]).median, 1.5);
    assert.throws(() => summarize([]), RangeError);
  },
});

Deno.test({
  name: "ratioRow() takes the ratio per round, not the ratio of medians",
  permissions: "none",
  fn() {
    // Each round the subject is 2× its baseline, while the load varies 10×.
    const base = [1, 10, 1, 10, 1];
    const subject = base.map((x) => 2 * x);
    assert.deepEqual(ratios(subject, base), [2, 2, 2, 2, 2]);
    const row = ratioRow("x", subject, base, {
      target: { op: "<=", value: 1.5 },
    });
    assert.equal(row.summary.median, 2);
    assert.equal(row.summary.max - row.summary.min, 0);
    assert.equal(passes(row), false);
    assert.equal(passes({ ...row, target: { op: ">=", value: 1.5 } }), true);
    const { target: _, ...untargeted } = row;
    assert.equal(passes(untargeted), undefined);
  },
});
