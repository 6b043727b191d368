import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { KvStore } from "../store/kv_store.ts";
import { openKv } from "../host/open_kv.ts";
import { capsuleKv } from "./capsule_kv.ts";

const code = (c: string) => (e: unknown) => KernelError.is(e, c as never);

Deno.test({
  name:
    "`capsuleKv()` refuses the key past the count quota with ABI_QUOTA_EXCEEDED; replacing and deleting keep the count right",
  permissions: "none",
  async fn() {
    await using store = new KvStore(await openKv(":memory:"));
    const kv = capsuleKv(store, "p:capsule:a", { keys: 2, bytes: 1 << 20 });
    await kv.set("a", 1);
    await kv.set("b", 2);
    await assert.rejects(kv.set("c", 3), code("ABI_QUOTA_EXCEEDED"));
    assert.equal(await kv.get("c"), null, "a refused write changes nothing");
    await kv.set("a", 10); // replacing is not a new key
    await kv.delete("b");
    await kv.delete("b"); // deleting a missing key frees nothing twice
    await kv.set("c", 3);
    await assert.rejects(kv.set("d", 4), code("ABI_QUOTA_EXCEEDED"));
    assert.deepEqual(
      await kv.listKeys("", { signal: new AbortController().signal }),
      ["a", "c"],
    );
  },
});

Deno.test({
  name:
    "`capsuleKv()` counts key and JSON value bytes against the byte quota, per namespace",
  permissions: "none",
  async fn() {
    await using store = new KvStore(await openKv(":memory:"));
    const kv = capsuleKv(store, "p:capsule:a", { keys: 100, bytes: 100 });
    const other = capsuleKv(store, "p:capsule:b", { keys: 100, bytes: 100 });
    await kv.set("k", "x".repeat(95)); // 1 + 97 bytes
    await assert.rejects(kv.set("l", "yy"), code("ABI_QUOTA_EXCEEDED"));
    await other.set("l", "yy"); // another capsule's namespace has its own quota
    await kv.set("k", "short"); // shrinking frees bytes
    await kv.set("l", "yy");
  },
});

Deno.test({
  name:
    "`capsuleKv()` never lets concurrent writes push a namespace past its quota",
  permissions: "none",
  async fn() {
    await using store = new KvStore(await openKv(":memory:"));
    const kv = capsuleKv(store, "p:capsule:a", { keys: 5, bytes: 1 << 20 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => kv.set(`k${i}`, i)),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 5);
    assert.ok(
      results.every((r) =>
        r.status === "fulfilled" || code("ABI_QUOTA_EXCEEDED")(r.reason)
      ),
    );
    assert.equal(
      (await kv.listKeys("", { signal: new AbortController().signal })).length,
      5,
    );
  },
});

Deno.test({
  name:
    "`capsuleKv()` keeps the quota exact when another handle of the namespace (another instance) or the store itself changed what this one remembers",
  permissions: "none",
  async fn() {
    await using store = new KvStore(await openKv(":memory:"));
    const ns = "p:capsule:a";
    const a = capsuleKv(store, ns, { keys: 2, bytes: 100 });
    const b = capsuleKv(store, ns, { keys: 2, bytes: 100 });
    await a.set("x", 1); // `a` remembers the usage: 1 key
    assert.equal(await a.get("z"), null); // and that `z` is absent
    await b.set("y", 2); // 2 keys, written through `b`
    await assert.rejects(a.set("z", 3), code("ABI_QUOTA_EXCEEDED"));
    assert.equal(await b.get("z"), null);
    // A key grown in the store behind the handle's back counts at its
    // stored size when the handle replaces it.
    const c = capsuleKv(store, "p:capsule:c", { keys: 10, bytes: 100 });
    await c.set("x", "s"); // remembered: 1 + 3 bytes
    await store.set(["p:capsule:c", "x"], "w".repeat(80)); // 1 + 82 stored
    await c.set("x", "s"); // frees the 83 stored bytes (usage clamped at 0)…
    await c.set("y", "v".repeat(95)); // …so 1 + 97 more bytes fit
  },
});
