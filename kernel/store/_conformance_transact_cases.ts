/**
 * Private: Store conformance cases — optimistic transactions and `updateValue` under concurrency.
 * Backend-independent: each case gets a factory of fresh, empty stores
 * (see `_conformance_test_suite.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConformanceCase } from "./_conformance_test_suite.ts";
import { KernelError } from "../core/errors.ts";
import type { StoreValue } from "./store.ts";
import { updateValue } from "./update_value.ts";

function code(c: string): (e: unknown) => boolean {
  return (e) => KernelError.is(e, c as never);
}

const inc = (v: StoreValue | null): StoreValue =>
  (typeof v === "number" ? v : 0) + 1;

/** The cases. */
export const TRANSACT_CASES: readonly ConformanceCase[] = [
  {
    name:
      "`updateValue()` loses no increment among 200 concurrent updates of one counter",
    async run(open) {
      await using store = await open();
      const results = await Promise.all(
        Array.from(
          { length: 200 },
          () => updateValue(store, ["stats", "n"], { apply: inc }),
        ),
      );
      assert.equal((await store.get(["stats", "n"]))?.value, 200);
      assert.deepEqual(
        results.map((r) => r.value).sort((a, b) =>
          (a as number) - (b as number)
        ),
        [
          ...Array.from({ length: 200 }, (_, i) => i + 1),
        ],
      );
    },
  },

  {
    name:
      "`Store.transact()` appends 1,000 concurrent entries as one linear chain",
    async run(open) {
      await using store = await open();
      type Head = { seq: number; hash: string };
      const append = (payload: string) =>
        store.transact(async (tx) => {
          const head = (await tx.get(["audit:head", "p"]))?.value as
            | Head
            | undefined;
          const seq = (head?.seq ?? 0) + 1;
          const entry = { seq, prev: head?.hash ?? "genesis", payload };
          tx.set(["audit:entry", "p", seq], entry);
          tx.set(["audit:head", "p"], { seq, hash: `h${seq}:${payload}` });
          return seq;
        }, { maxAttempts: 1_000 });
      const results = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => append(`e${i}`)),
      );
      assert.deepEqual(
        results.map((r) => r.value).sort((a, b) => a - b),
        Array.from({ length: 1_000 }, (_, i) => i + 1),
      );
      let prev = "genesis";
      let seq = 0;
      for await (const e of store.list(["audit:entry", "p"])) {
        const entry = e.value as { seq: number; prev: string; payload: string };
        seq++;
        assert.equal(entry.seq, seq);
        assert.equal(entry.prev, prev);
        prev = `h${seq}:${entry.payload}`;
      }
      assert.equal(seq, 1_000);
      // Losers retry one at a time, so the total work stays linear.
      const attempts = results.reduce((n, r) => n + r.attempts, 0);
      assert.ok(attempts < 3_000, `took ${attempts} attempts`);
    },
  },

  {
    name:
      "`Store.transact()` consumes a single-use token exactly once under concurrency",
    async run(open) {
      await using store = await open();
      await store.set(["caps:tokens", "t1"], { uses: 1 });
      const consume = () =>
        store.transact(async (tx) => {
          const [token, used] = await tx.getMany([["caps:tokens", "t1"], [
            "caps:used",
            "t1",
          ]]);
          if (token === null || used !== null) return false;
          tx.set(["caps:used", "t1"], true);
          return true;
        });
      const results = await Promise.all(Array.from({ length: 100 }, consume));
      assert.equal(results.filter((r) => r.value).length, 1);
    },
  },

  {
    name:
      "`Store.transact()` never overspends two budgets reserved together under concurrency",
    async run(open) {
      await using store = await open();
      await store.set(["budget:session", "s"], { limit: 50, used: 0 });
      await store.set(["budget:workspace", "w"], { limit: 30, used: 0 });
      type B = { limit: number; used: number };
      const reserve = (cost: number) =>
        store.transact(async (tx) => {
          const [s, w] = (await tx.getMany([["budget:session", "s"], [
            "budget:workspace",
            "w",
          ]])).map((e) => e?.value as B);
          if (
            !s || !w || s.used + cost > s.limit || w.used + cost > w.limit
          ) return false;
          tx.set(["budget:session", "s"], { ...s, used: s.used + cost });
          tx.set(["budget:workspace", "w"], { ...w, used: w.used + cost });
          return true;
        }, { maxAttempts: 500 });
      const results = await Promise.all(
        Array.from({ length: 100 }, () => reserve(1)),
      );
      assert.equal(results.filter((r) => r.value).length, 30);
      const [s, w] = await store.getMany([["budget:session", "s"], [
        "budget:workspace",
        "w",
      ]]);
      assert.deepEqual([s?.value, w?.value], [{ limit: 50, used: 30 }, {
        limit: 30,
        used: 30,
      }]);
    },
  },

  {
    name:
      "`Store.transact()` reruns the function when a key it read changed before commit",
    async run(open) {
      await using store = await open();
      await store.set(["ns", "k"], 1);
      const seen: number[] = [];
      const result = await store.transact(async (tx) => {
        const v = (await tx.get(["ns", "k"]))?.value as number;
        seen.push(v);
        if (tx.attempt === 1) await store.set(["ns", "k"], 10); // a concurrent writer
        tx.set(["ns", "k"], v + 1);
        return v;
      });
      assert.deepEqual(seen, [1, 10]);
      assert.deepEqual([result.value, result.attempts], [10, 2]);
      assert.equal((await store.get(["ns", "k"]))?.value, 11);
    },
  },

  {
    name:
      "`Store.transact()` gives up with STORE_CONFLICT after maxAttempts conflicts",
    async run(open) {
      await using store = await open();
      let runs = 0;
      await assert.rejects(
        () =>
          store.transact(async (tx) => {
            runs++;
            await tx.get(["ns", "hot"]);
            await store.set(["ns", "hot"], runs); // always beaten by another writer
            tx.set(["ns", "mine"], runs);
          }, { maxAttempts: 3 }),
        (e: unknown) =>
          KernelError.is(e, "STORE_CONFLICT") && e.data?.attempts === 3,
      );
      assert.equal(runs, 3);
      assert.equal(await store.get(["ns", "mine"]), null);
      await assert.rejects(
        () => store.transact(() => 1, { maxAttempts: 0 }),
        RangeError,
      );
    },
  },

  {
    name: "`Store.transact()` writes nothing when the function throws",
    async run(open) {
      await using store = await open();
      await assert.rejects(
        () =>
          store.transact((tx) => {
            tx.set(["ns", "a"], 1);
            throw new KernelError("INVALID_INPUT", "over budget");
          }),
        code("INVALID_INPUT"),
      );
      assert.equal(await store.get(["ns", "a"]), null);
    },
  },

  {
    name:
      "`Transaction` repeats reads, refuses read-after-write and use after it ends",
    async run(open) {
      await using store = await open();
      await store.set(["ns", "a"], 1);
      let escaped:
        | { get(k: readonly [string, ...string[]]): Promise<unknown> }
        | undefined;
      await store.transact(async (tx) => {
        escaped = tx;
        const first = await tx.get(["ns", "a"]);
        assert.deepEqual(await tx.get(["ns", "a"]), first);
        tx.delete(["ns", "b"]);
        await assert.rejects(() => tx.get(["ns", "b"]), TypeError);
        assert.throws(() => tx.set(["ns", ""], 1), code("STORE_KEY_INVALID"));
      });
      await assert.rejects(() => escaped!.get(["ns", "a"]), TypeError);
    },
  },

  {
    name:
      "`Store.transact()` honours an abort signal before running and before committing",
    async run(open) {
      await using store = await open();
      let ran = false;
      await assert.rejects(
        () =>
          store.transact(() => (ran = true), { signal: AbortSignal.abort() }),
        code("ABORTED"),
      );
      assert.equal(ran, false);

      const ac = new AbortController();
      await assert.rejects(
        () =>
          store.transact(async (tx) => {
            await tx.get(["ns", "a"]);
            tx.set(["ns", "a"], 1);
            ac.abort(); // cancelled while the function runs: nothing is committed
          }, { signal: ac.signal }),
        code("ABORTED"),
      );
      assert.equal(await store.get(["ns", "a"]), null);
    },
  },

  {
    name:
      "`updateValue()` propagates a refusal thrown by apply and writes nothing",
    async run(open) {
      await using store = await open();
      await store.set(["ns", "n"], 5);
      const capped = (v: StoreValue | null): StoreValue => {
        if ((v as number) >= 5) {
          throw new KernelError("INVALID_INPUT", "limit reached");
        }
        return (v as number) + 1;
      };
      await assert.rejects(
        () => updateValue(store, ["ns", "n"], { apply: capped }),
        code("INVALID_INPUT"),
      );
      assert.equal((await store.get(["ns", "n"]))?.value, 5);
      await assert.rejects(
        () =>
          updateValue(store, ["ns", "n"], {
            apply: inc,
            signal: AbortSignal.abort(),
          }),
        code("ABORTED"),
      );
    },
  },
];
