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
