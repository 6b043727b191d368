/**
 * Private: Store conformance cases — checked atomic commits and their limits.
 * Backend-independent: each case gets a factory of fresh, empty stores
 * (see `_conformance_test_suite.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConformanceCase } from "./_conformance_test_suite.ts";
import { KernelError } from "../core/errors.ts";
import { MAX_ATOMIC_SET_KEY_BYTES } from "./_kv_atomic.ts";
import { DENO_KV_LIMITS } from "./kv_store.ts";
import type { StoreKey } from "./store.ts";

function code(c: string, pattern?: RegExp): (e: unknown) => boolean {
  return (e) =>
    KernelError.is(e) && e.code === c &&
    (pattern === undefined || pattern.test(e.message));
}

/** The cases. */
export const ATOMIC_CASES: readonly ConformanceCase[] = [
  {
    name:
      "`AtomicWrite.commit()` fails with ok:false on a stale versionstamp and writes nothing",
    async run(open) {
      await using store = await open();
      const v1 = await store.set(["ns", "head"], 1);
      const first = await store.atomic().check(["ns", "head"], v1).set([
        "ns",
        "head",
      ], 2).set(["ns", "e", 2], "x")
        .commit();
      assert.equal(first.ok, true);
      const second = await store.atomic().check(["ns", "head"], v1).set([
        "ns",
        "head",
      ], 3).set(["ns", "e", 3], "y")
        .commit();
      assert.deepEqual(second, { ok: false });
      assert.equal((await store.get(["ns", "head"]))?.value, 2);
      assert.equal(await store.get(["ns", "e", 3]), null);
    },
  },

  {
    name: "`AtomicWrite.check(key, null)` requires the key to be absent",
    async run(open) {
      await using store = await open();
      const claim = () =>
        store.atomic().check(["caps:used", "t1"], null).set(
          ["caps:used", "t1"],
          true,
        ).commit();
      assert.equal((await claim()).ok, true);
      assert.equal((await claim()).ok, false);
    },
  },

  {
    name:
      "`AtomicWrite` spans namespaces: checks in one, writes in two, all or nothing",
    async run(open) {
      await using store = await open();
      const vs = await store.set(["budget:session", "s1"], 10);
      const vw = await store.set(["budget:workspace", "w1"], 100);
      const ok = await store.atomic()
        .check(["budget:session", "s1"], vs).check(
          ["budget:workspace", "w1"],
          vw,
        )
        .set(["budget:session", "s1"], 7).set(["budget:workspace", "w1"], 97)
        .delete(["tmp", "x"]).commit();
      assert.equal(ok.ok, true);
      const stale = await store.atomic()
        .check(["budget:session", "s1"], ok.ok ? ok.versionstamp : null).check([
          "budget:workspace",
          "w1",
        ], vw)
        .set(["budget:session", "s1"], 0).set(["budget:workspace", "w1"], 0)
        .commit();
      assert.equal(stale.ok, false);
      assert.deepEqual(
        (await store.getMany([["budget:session", "s1"], [
          "budget:workspace",
          "w1",
        ]])).map((e) => e?.value),
        [
          7,
          97,
        ],
      );
    },
  },

  {
    name:
      "`AtomicWrite` accepts 1000 mutations and rejects the 1001st before committing",
    async run(open) {
      await using store = await open();
      const op = store.atomic();
      for (let i = 0; i < 1000; i++) op.set(["ns", i], i);
      assert.throws(
        () => op.delete(["ns", 1000]),
        code("STORE_ATOMIC_TOO_LARGE", /1001 mutations \(limit 1000\)/),
      );
      await assert.rejects(() => op.commit(), code("STORE_ATOMIC_TOO_LARGE"));
      assert.equal(await store.get(["ns", 0]), null);
      const full = store.atomic();
      for (let i = 0; i < 1000; i++) full.set(["ns", i], i);
      assert.equal((await full.commit()).ok, true);
      assert.equal((await store.get(["ns", 999]))?.value, 999);
    },
  },

  {
    name: "`AtomicWrite` accepts 100 checks and rejects the 101st",
    async run(open) {
      await using store = await open();
      const op = store.atomic();
      for (let i = 0; i < 100; i++) op.check(["ns", i], null);
      assert.throws(
        () => op.check(["ns", 100], null),
        code("STORE_ATOMIC_TOO_LARGE", /101 checks \(limit 100\)/),
      );
      const full = store.atomic();
      for (let i = 0; i < 100; i++) full.check(["ns", i], null);
      assert.equal((await full.set(["ns", "done"], 1).commit()).ok, true);
    },
  },

  {
    name:
      "`AtomicWrite` counts total payload like Deno KV: the largest commit we allow is accepted",
    async run(open) {
      await using store = await open();
      const big = new Uint8Array(65_535);
      // Each set of ["ns", i] (4 + 9 = 13 key bytes) with a 65,536-byte encoded value costs 26 + 65,536.
      const perSet = 2 * 13 + 65_536;
      const op = store.atomic();
      for (let i = 0; i < 12; i++) op.set(["ns", i], big);
      const room = DENO_KV_LIMITS.maxAtomicBytes - 12 * perSet;
      const last = new Uint8Array(room - 2 * 13 - 1); // exactly fills the budget
      op.set(["ns", 12], last);
      assert.equal((await op.commit()).ok, true);

      const over = store.atomic();
      for (let i = 0; i < 12; i++) over.set(["ns", i], big);
      assert.throws(
        () => over.set(["ns", 12], new Uint8Array(room - 2 * 13)),
        code("STORE_ATOMIC_TOO_LARGE", /819201 bytes \(limit 819200\)/),
      );
    },
  },

  {
    name: "`AtomicWrite` limits the total key size of sets as Deno KV does",
    async run(open) {
      await using store = await open();
      const key = (
        i: number,
      ): StoreKey => ["ns", i, "k".repeat(2048 - 4 - 9 - 2)]; // 2048 bytes
      const op = store.atomic();
      for (let i = 0; i < MAX_ATOMIC_SET_KEY_BYTES / 2048; i++) {
        op.set(key(i), 0);
      }
      op.delete(["ns", "deletes do not count"]);
      assert.equal((await op.commit()).ok, true);
      const over = store.atomic();
      for (let i = 0; i < 40; i++) over.set(key(i), 0);
      assert.throws(
        () => over.set(["ns", "x"], 0),
        code("STORE_ATOMIC_TOO_LARGE", /keys of its sets/),
      );
    },
  },

  {
    name:
      "`AtomicWrite.commit()` may run once, and the builder is closed afterwards",
    async run(open) {
      await using store = await open();
      const op = store.atomic().set(["ns", "k"], 1);
      await op.commit();
      await assert.rejects(() => op.commit(), TypeError);
      assert.throws(() => op.set(["ns", "k"], 2), TypeError);
      assert.throws(
        () => store.atomic().check(["ns", "k"], 5 as never),
        TypeError,
      );
    },
  },

  {
    name:
      "`AtomicWrite` with an invalid key rejects the whole commit, even if the caller ignores the error",
    async run(open) {
      await using store = await open();
      const op = store.atomic().set(["ns", "a"], 1);
      try {
        op.set(["ns", ""], 2);
      } catch {
        // silent-ok: the test checks that commit() still refuses
      }
      await assert.rejects(() => op.commit(), code("STORE_KEY_INVALID"));
      assert.equal(await store.get(["ns", "a"]), null);
    },
  },
];
