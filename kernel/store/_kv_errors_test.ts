import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { openKv } from "../host/open_kv.ts";
import { kvError } from "./_kv_errors.ts";
import type { KvLike } from "./kv_like.ts";

/** Captures what the real database throws for `op`. */
async function thrownBy(op: () => Promise<unknown>): Promise<unknown> {
  try {
    await op();
  } catch (err) {
    return err;
  }
  throw new Error("expected the database to throw");
}

function atomicSet(
  kv: KvLike,
  count: number,
  value: unknown,
): Promise<unknown> {
  const op = kv.atomic();
  for (let i = 0; i < count; i++) op.set(["n", i], value);
  return op.commit();
}

Deno.test({
  name:
    "`kvError()` maps the engine's own limit errors to STORE_* codes, keeping the cause",
  permissions: "none",
  async fn() {
    const kv = await openKv(":memory:");
    try {
      const cases: [() => Promise<unknown>, string][] = [
        [
          () => atomicSet(kv, 1, new Uint8Array(65_537)),
          "STORE_VALUE_TOO_LARGE",
        ],
        [() => kv.get(["k".repeat(3000)]), "STORE_KEY_INVALID"],
        [() => {
          const op = kv.atomic();
          op.set([], 1);
          return op.commit();
        }, "STORE_KEY_INVALID"],
        [() => atomicSet(kv, 1001, 1), "STORE_ATOMIC_TOO_LARGE"],
        [
          () => kv.getMany(Array.from({ length: 11 }, (_, i) => ["n", i])),
          "STORE_ATOMIC_TOO_LARGE",
        ],
        [
          () => atomicSet(kv, 13, new Uint8Array(65_536)),
          "STORE_ATOMIC_TOO_LARGE",
        ],
      ];
      for (const [op, code] of cases) {
        const raw = await thrownBy(op);
        const mapped = kvError(raw, "do it");
        assert.equal(mapped.code, code, String(raw));
        assert.equal(mapped.cause, raw);
        assert.match(mapped.message, /^Cannot do it: /);
      }
    } finally {
      kv.close();
    }
  },
});

Deno.test({
  name: "`kvError()` maps a closed database to STORE_UNAVAILABLE",
  permissions: "none",
  async fn() {
    const kv = await openKv(":memory:");
    kv.close();
    const mapped = kvError(await thrownBy(() => kv.get(["a"])), "get ['a']");
    assert.equal(mapped.code, "STORE_UNAVAILABLE");
    assert.match(mapped.message, /as the store is closed/);
  },
});

Deno.test({
  name:
    "`kvError()` names the daemon for a locked database and passes kernel errors through",
  permissions: "none",
  fn() {
    const locked = kvError(new TypeError("database is locked"), "set x");
    assert.equal(locked.code, "STORE_UNAVAILABLE");
    assert.match(
      locked.message,
      /another process holds the store; only the daemon may open it/,
    );
    const own = new KernelError("ABORTED", "stop");
    assert.equal(kvError(own, "x"), own);
    assert.equal(
      kvError(new Error("disk I/O error"), "set x").code,
      "STORE_UNAVAILABLE",
    );
  },
});
