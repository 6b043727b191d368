import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { evalChild } from "../host/_eval_child_test.ts";
import { linkSignals } from "./linked_signal.ts";

Deno.test({
  name: "linkSignals() aborts with the reason of the first source that aborts",
  permissions: "none",
  fn() {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals([a.signal, undefined, b.signal]);
    assert.equal(linked.signal.aborted, false);
    b.abort("b first");
    a.abort("a later");
    assert.equal(linked.signal.aborted, true);
    assert.equal(linked.signal.reason, "b first");
    linked.unlink();
  },
});

Deno.test({
  name: "linkSignals() is aborted at once when a source already is",
  permissions: "none",
  fn() {
    const done = new AbortController();
    done.abort("gone");
    const linked = linkSignals([new AbortController().signal, done.signal]);
    assert.equal(linked.signal.aborted, true);
    assert.equal(linked.signal.reason, "gone");
    linked.unlink();
  },
});

Deno.test({
  name: "an unlinked signal no longer follows its sources",
  permissions: "none",
  fn() {
    const longLived = new AbortController();
    const call = new AbortController();
    const linked = linkSignals([longLived.signal, call.signal]);
    linked.unlink();
    linked.unlink(); // idempotent
    longLived.abort("shutdown");
    assert.equal(linked.signal.aborted, false);
  },
});

Deno.test({
  name: "one source and no deadline: the linked signal is that source",
  permissions: "none",
  fn() {
    const only = new AbortController();
    const linked = linkSignals([undefined, only.signal]);
    assert.equal(linked.signal, only.signal);
    linked.unlink();
  },
});

Deno.test({
  name:
    "the deadline aborts with a TimeoutError, and unlink cancels it (no timer is left)",
  permissions: "none",
  async fn() {
    const fires = linkSignals([], { timeoutMs: 5 });
    await new Promise((r) => fires.signal.addEventListener("abort", r));
    assert.equal((fires.signal.reason as DOMException).name, "TimeoutError");
    fires.unlink();
    const cancelled = linkSignals([new AbortController().signal], {
      timeoutMs: 5,
    });
    cancelled.unlink(); // the test's op sanitizer fails on a live timer
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(cancelled.signal.aborted, false);
  },
});

const MODULE = fileURLToPath(new URL("./linked_signal.ts", import.meta.url));

Deno.test({
  name:
    "a long-lived source keeps nothing of the linked signals made from it once they are unlinked",
  permissions: { run: true, read: true },
  async fn() {
    const out = await evalChild(
      `import { linkSignals } from ${JSON.stringify(MODULE)};
const longLived = new AbortController().signal;
let ref;
{
  const call = new AbortController();
  const linked = linkSignals([longLived, call.signal]);
  ref = new WeakRef(linked.signal);
  linked.unlink();
}
const heap = () => { globalThis.gc(); return Deno.memoryUsage().heapUsed; };
await new Promise((r) => setTimeout(r, 0));
const before = heap();
for (let i = 0; i < 20000; i++) {
  const linked = linkSignals([longLived, new AbortController().signal]);
  linked.unlink();
  if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 0));
}
await new Promise((r) => setTimeout(r, 0));
const grown = heap() - before;
console.log(JSON.stringify({ collected: ref.deref() === undefined, grownKb: Math.round(grown / 1024) }));`,
      ["--v8-flags=--expose-gc", `--allow-read=${MODULE}`],
    );
    assert.equal(out.code, 0, out.stdout);
    const r = JSON.parse(out.stdout) as { collected: boolean; grownKb: number };
    assert.equal(r.collected, true, "the long-lived source kept the signal");
    assert.ok(r.grownKb < 2048, `the heap grew by ${r.grownKb} KB`);
  },
});
