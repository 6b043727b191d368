import assert from "node:assert/strict";
import { LruMap } from "./lru_map.ts";

Deno.test("`LruMap` holds at most its bound, dropping the least recently set key", () => {
  const m = new LruMap<number>(3);
  for (let i = 0; i < 10; i++) m.set(`k${i}`, i);
  assert.equal(m.size, 3);
  assert.equal(m.get("k6"), undefined);
  assert.deepEqual([m.get("k7"), m.get("k8"), m.get("k9")], [7, 8, 9]);
});

Deno.test("`LruMap` keeps a key that was set again, and drops a deleted one", () => {
  const m = new LruMap<string>(2);
  m.set("a", "1");
  m.set("b", "2");
  m.set("a", "3");
  m.set("c", "4");
  assert.equal(m.get("a"), "3");
  assert.equal(m.get("b"), undefined);
  m.delete("a");
  assert.equal(m.get("a"), undefined);
  assert.equal(m.size, 1);
});

Deno.test("`LruMap` refuses a bound that is not a positive integer", () => {
  assert.throws(() => new LruMap(0), RangeError);
  assert.throws(() => new LruMap(1.5), RangeError);
});
