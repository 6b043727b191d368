import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "./kv_store.ts";
import type { StoreEntry, StoreKey } from "./store.ts";

async function memoryStore(): Promise<KvStore> {
  return new KvStore(await openKv(":memory:"));
}

async function collect(it: AsyncIterable<StoreEntry>): Promise<StoreKey[]> {
  const keys: StoreKey[] = [];
  for await (const e of it) keys.push(e.key);
  return keys;
}

function code(c: string, pattern?: RegExp): (e: unknown) => boolean {
  return (e) =>
    KernelError.is(e) && e.code === c &&
    (pattern === undefined || pattern.test(e.message));
}

Deno.test({
  name:
    "`KvStore.set()` then `get()` returns the value and the versionstamp of the write",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    assert.equal(await store.get(["ns", "k"]), null);
    const v1 = await store.set(["ns", "k"], { a: [1, "two", null], b: true });
    assert.deepEqual(await store.get(["ns", "k"]), {
      key: ["ns", "k"],
      value: { a: [1, "two", null], b: true },
      versionstamp: v1,
    });
    const v2 = await store.set(["ns", "k"], new Uint8Array([1, 2]));
    assert.ok(v2 > v1);
    assert.deepEqual(
      (await store.get(["ns", "k"]))?.value,
      new Uint8Array([1, 2]),
    );
    await store.delete(["ns", "k"]);
    assert.equal(await store.get(["ns", "k"]), null);
    await store.delete(["ns", "k"]); // deleting an absent key is a no-op
  },
});

Deno.test({
  name:
    "`KvStore.getMany()` returns entries in order, across more than one batch of 10",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    for (let i = 0; i < 25; i += 2) await store.set(["n", i], i * 10);
    const keys: StoreKey[] = Array.from({ length: 25 }, (_, i) => ["n", i]);
    const got = await store.getMany(keys);
    assert.equal(got.length, 25);
    got.forEach((e, i) =>
      assert.deepEqual(e?.value ?? null, i % 2 === 0 ? i * 10 : null)
    );
    assert.deepEqual(await store.getMany([]), []);
  },
});

Deno.test({
  name:
    "`KvStore.list()` returns keys strictly under the prefix, in order, with limit and reverse",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    for (
      const k of [["b"], ["a", "2"], ["a", "10"], ["a", 2], ["a", 10], ["a"], [
        "a",
        "x",
        "y",
      ]]
    ) {
      await store.set(["ns", ...k] as StoreKey, 1);
    }
    // strings before numbers; strings by bytes ("10" < "2"), numbers numerically.
    assert.deepEqual(await collect(store.list(["ns", "a"])), [
      ["ns", "a", "10"],
      ["ns", "a", "2"],
      ["ns", "a", "x", "y"],
      ["ns", "a", 2],
      ["ns", "a", 10],
    ]);
    assert.deepEqual(
      await collect(store.list(["ns", "a"], { limit: 2, reverse: true })),
      [
        ["ns", "a", 10],
        ["ns", "a", 2],
      ],
    );
    assert.equal((await collect(store.list(["ns"]))).length, 7);
    assert.throws(() => store.list(["ns"], { limit: 0 }), RangeError);
  },
});

Deno.test({
  name:
    "`KvStore.list()` honours start (inclusive) and end (exclusive) under the prefix",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    for (let i = 0; i < 6; i++) await store.set(["log", "chain", i], i);
    await store.set(["log", "other", 0], 0);
    const range = (o: { start?: StoreKey; end?: StoreKey }) =>
      collect(store.list(["log", "chain"], o));
    assert.deepEqual(
      await range({ start: ["log", "chain", 3] }),
      [3, 4, 5].map((i) => ["log", "chain", i]),
    );
    assert.deepEqual(
      await range({ end: ["log", "chain", 2] }),
      [0, 1].map((i) => ["log", "chain", i]),
    );
    assert.deepEqual(
      await range({ start: ["log", "chain", 1], end: ["log", "chain", 3] }),
      [1, 2].map((i) => ["log", "chain", i]),
    );
    assert.throws(
      () => store.list(["log", "chain"], { start: ["log", "other", 0] }),
      code("STORE_KEY_INVALID"),
    );
    assert.throws(
      () => store.list(["log", "chain"], { end: ["log", "chain"] }),
      code("STORE_KEY_INVALID"),
    );
  },
});

Deno.test({
  name:
    "`KvStore` keeps namespaces apart: no separator tricks, no prefix bleed",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    await store.set(["a:b", "c"], "ns a:b");
    await store.set(["a", "b:c"], "ns a");
    await store.set(["ab", "x"], "ns ab");
    assert.equal((await store.get(["a:b", "c"]))?.value, "ns a:b");
    assert.equal((await store.get(["a", "b:c"]))?.value, "ns a");
    assert.equal(await store.get(["a", "b", "c"]), null);
    assert.deepEqual(await collect(store.list(["a"])), [["a", "b:c"]]);
    assert.deepEqual(await collect(store.list(["ab"])), [["ab", "x"]]);
    assert.deepEqual(await collect(store.list(["a", "b"])), []);
    assert.deepEqual(await collect(store.list(["a:b"])), [["a:b", "c"]]);
  },
});

Deno.test({
  name:
    "`KvStore` refuses lone surrogates so two distinct strings never share a stored key",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    await store.set(["ns", "\ufffd"], "replacement char");
    await assert.rejects(
      () => store.set(["ns", "\ud800"], "attacker"),
      code("STORE_KEY_INVALID", /lone surrogate/),
    );
    assert.equal(
      (await store.get(["ns", "\ufffd"]))?.value,
      "replacement char",
    );
  },
});

Deno.test({
  name: "`KvStore` rejects invalid keys on every operation",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const bad = [
      ["ns", ""],
      ["", "k"],
      ["ns", "a\0"],
      ["ns", "x".repeat(2043)],
      ["ns"],
      ["ns", true],
    ];
    for (const key of bad as unknown as StoreKey[]) {
      await assert.rejects(
        () => store.get(key),
        code("STORE_KEY_INVALID"),
        String(key),
      );
      await assert.rejects(() => store.set(key, 1), code("STORE_KEY_INVALID"));
      await assert.rejects(() => store.delete(key), code("STORE_KEY_INVALID"));
      assert.throws(
        () => store.atomic().check(key, null),
        code("STORE_KEY_INVALID"),
      );
    }
    assert.throws(() => store.list(["", "x"]), code("STORE_KEY_INVALID"));
    // The largest valid key is accepted by the real database.
    await store.set(["ns", "x".repeat(2042)], 1);
    await store.set(["ns", 1, "y".repeat(2048 - 4 - 9 - 2)], 1);
    assert.equal((await store.get(["ns", "x".repeat(2042)]))?.value, 1);
  },
});

Deno.test({
  name:
    "`KvStore.set()` rejects an oversized value and leaves the old value in place",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    await store.set(["ns", "k"], "old");
    await assert.rejects(
      () => store.set(["ns", "k"], "x".repeat(70_000)),
      code("STORE_VALUE_TOO_LARGE", /70003 bytes encoded .* limit is 65536/),
    );
    await assert.rejects(
      () => store.set(["ns", "k"], new Uint8Array(65_536)),
      code("STORE_VALUE_TOO_LARGE"),
    );
    assert.equal((await store.get(["ns", "k"]))?.value, "old");
    // The largest accepted value round-trips intact.
    const max = new Uint8Array(65_535).fill(7);
    await store.set(["ns", "k"], max);
    assert.deepEqual((await store.get(["ns", "k"]))?.value, max);
  },
});

Deno.test({
  name: "`KvStore.atomic()` with one oversized value writes nothing at all",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    const op = store.atomic().set(["ns", "a"], 1);
    assert.throws(
      () => op.set(["ns", "b"], "y".repeat(65_536)),
      code("STORE_VALUE_TOO_LARGE"),
    );
    assert.equal(await store.get(["ns", "a"]), null);
  },
});

Deno.test({
  name: "`KvStore` rejects values that are not JSON-compatible",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    await assert.rejects(
      () => store.set(["ns", "k"], { n: NaN }),
      code("CANONICAL_JSON_UNSUPPORTED"),
    );
    await assert.rejects(
      () => store.set(["ns", "k"], new Date() as never),
      code("CANONICAL_JSON_UNSUPPORTED"),
    );
    assert.equal(await store.get(["ns", "k"]), null);
  },
});

Deno.test({
  name:
    "`KvStore` rejects every operation once closed, and close is idempotent",
  permissions: "none",
  async fn() {
    const store = await memoryStore();
    await store.set(["ns", "k"], 1);
    const atomic = store.atomic().set(["ns", "k"], 2);
    await store.close();
    await store.close();
    const closed = code("STORE_UNAVAILABLE", /the store is closed/);
    await assert.rejects(() => store.get(["ns", "k"]), closed);
    await assert.rejects(() => store.getMany([["ns", "k"]]), closed);
    await assert.rejects(() => store.set(["ns", "k"], 1), closed);
    await assert.rejects(() => store.delete(["ns", "k"]), closed);
    assert.throws(() => store.list(["ns"]), closed);
    await assert.rejects(() => atomic.commit(), closed);
    await assert.rejects(() => store.transact(() => 1), closed);
  },
});

Deno.test({
  name:
    "`KvStore.list()` stops with STORE_UNAVAILABLE when the store closes mid-iteration",
  permissions: "none",
  async fn() {
    const store = await memoryStore();
    for (let i = 0; i < 5; i++) await store.set(["ns", i], i);
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const e of store.list(["ns"])) {
        seen.push(e.value as number);
        if (seen.length === 2) await store.close();
      }
    }, code("STORE_UNAVAILABLE"));
    assert.deepEqual(seen, [0, 1]);
  },
});

Deno.test({
  name: "`KvStore.list()` honours its abort signal between entries",
  permissions: "none",
  async fn() {
    await using store = await memoryStore();
    for (let i = 0; i < 300; i++) await store.set(["ns", i], i);
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(async () => {
      for await (const _ of store.list(["ns"], { signal: ac.signal })) {
        if (++seen === 150) ac.abort(new Error("stop"));
      }
    }, code("ABORTED"));
    assert.equal(seen, 150);
    const aborted = AbortSignal.abort();
    await assert.rejects(
      () => collect(store.list(["ns"], { signal: aborted })),
      code("ABORTED"),
    );
  },
});
