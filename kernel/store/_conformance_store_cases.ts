/**
 * Private: Store conformance cases — get/set/delete, `getMany`, ordered prefix listing, key and value limits, close.
 * Backend-independent: each case gets a factory of fresh, empty stores
 * (see `_conformance_test_suite.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConformanceCase } from "./_conformance_test_suite.ts";
import { KernelError } from "../core/errors.ts";
import type { StoreEntry, StoreKey } from "./store.ts";

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

/** The cases. */
export const STORE_CASES: readonly ConformanceCase[] = [
  {
    name:
      "`Store.set()` then `get()` returns the value and the versionstamp of the write",
    async run(open) {
      await using store = await open();
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
  },

  {
    name:
      "`Store.getMany()` returns entries in order, across more than one batch of 10",
    async run(open) {
      await using store = await open();
      for (let i = 0; i < 25; i += 2) await store.set(["n", i], i * 10);
      const keys: StoreKey[] = Array.from({ length: 25 }, (_, i) => ["n", i]);
      const got = await store.getMany(keys);
      assert.equal(got.length, 25);
      got.forEach((e, i) =>
        assert.deepEqual(e?.value ?? null, i % 2 === 0 ? i * 10 : null)
      );
      assert.deepEqual(await store.getMany([]), []);
    },
  },

  {
    name:
      "`Store.list()` returns keys strictly under the prefix, in order, with limit and reverse",
    async run(open) {
      await using store = await open();
      for (
        const k of [
          ["b"],
          ["a", "2"],
          ["a", "10"],
          ["a", 2],
          ["a", 10],
          ["a"],
          [
            "a",
            "x",
            "y",
          ],
        ]
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
  },

  {
    name:
      "`Store.list()` honours start (inclusive) and end (exclusive) under the prefix",
    async run(open) {
      await using store = await open();
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
  },

  {
    name:
      "`Store` keeps namespaces apart: no separator tricks, no prefix bleed",
    async run(open) {
      await using store = await open();
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
  },

  {
    name:
      "`Store` refuses lone surrogates so two distinct strings never share a stored key",
    async run(open) {
      await using store = await open();
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
  },

  {
    name: "`Store` rejects invalid keys on every operation",
    async run(open) {
      await using store = await open();
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
        await assert.rejects(
          () => store.set(key, 1),
          code("STORE_KEY_INVALID"),
        );
        await assert.rejects(
          () => store.delete(key),
          code("STORE_KEY_INVALID"),
        );
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
  },

  {
    name:
      "`Store.set()` rejects an oversized value and leaves the old value in place",
    async run(open) {
      await using store = await open();
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
  },

  {
    name: "`Store.atomic()` with one oversized value writes nothing at all",
    async run(open) {
      await using store = await open();
      const op = store.atomic().set(["ns", "a"], 1);
      assert.throws(
        () => op.set(["ns", "b"], "y".repeat(65_536)),
        code("STORE_VALUE_TOO_LARGE"),
      );
      assert.equal(await store.get(["ns", "a"]), null);
    },
  },

  {
    name: "`Store` rejects values that are not JSON-compatible",
    async run(open) {
      await using store = await open();
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
  },

  {
    name:
      "`Store` rejects every operation once closed, and close is idempotent",
    async run(open) {
      const store = await open();
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
  },

  {
    name:
      "`Store.list()` stops with STORE_UNAVAILABLE when the store closes mid-iteration",
    async run(open) {
      const store = await open();
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
  },

  {
    name: "`Store.list()` honours its abort signal between entries",
    async run(open) {
      await using store = await open();
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
  },
];
