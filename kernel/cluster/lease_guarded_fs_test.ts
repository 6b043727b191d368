import assert from "node:assert/strict";
import { createDenoFs } from "../host/deno_fs.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { leaseGuardedFs } from "./lease_guarded_fs.ts";
import { SessionLeases } from "./session_leases.ts";

const S = "00000000-0000-4000-8000-0000000000c1";
const TTL = 15_000;

Deno.test("overlay writes on shared storage ask the session's lease: free while valid, a renewal in place after a pause, refused once another node took the session; reads and other paths pass", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  await using store = new KvStore(await openKv(":memory:"));
  try {
    const clock = new FakeClock(1_000_000);
    const of = (node: string) =>
      new SessionLeases(store, clock, {
        node,
        principal: "default",
        ttlMs: TTL,
      });
    const a = of("node-a");
    const b = of("node-b");
    const fs = leaseGuardedFs(createDenoFs(), {
      root: `${dir}/shared`,
      principal: "default",
      ensure: (s) => a.ensure(s),
    });
    assert.equal(typeof fs.appendFile, "function");
    assert.equal(typeof fs.readFileChecked, "function");
    const session = `${dir}/shared/default/${S}`;
    // Not held: refused, nothing written.
    await assert.rejects(fs.mkdir(session, { recursive: true }), {
      code: "SESSION_LEASE_LOST",
    });
    assert.equal(await fs.stat(session), null);
    await a.acquire(S);
    await fs.mkdir(session, { recursive: true });
    await fs.writeFile(`${session}/up`, "one");
    await fs.appendFile!(`${session}/journal.jsonl`, "{}\n");
    // Paused past its lease, nobody took it: renewed in place.
    await clock.advance(TTL + 1);
    await fs.writeFile(`${session}/up`, "two");
    // Paused again; node b takes the session over meanwhile.
    await clock.advance(TTL + 1);
    await b.acquire(S);
    for (
      const write of [
        () => fs.writeFile(`${session}/up`, "late"),
        () => fs.appendFile!(`${session}/journal.jsonl`, "late\n"),
        () => fs.remove(`${session}/up`),
        () => fs.rename(`${dir}/elsewhere`, `${session}/x`),
        () => fs.mkdir(`${session}/d`),
      ]
    ) {
      await assert.rejects(write, { code: "SESSION_LEASE_LOST" });
    }
    assert.equal(await fs.readTextFile(`${session}/up`), "two");
    // Outside the overlay root: not guarded.
    await fs.writeFile(`${dir}/elsewhere`, "free");
    assert.equal(await fs.readTextFile(`${dir}/elsewhere`), "free");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the overlay file system on shared storage uses the node file system's non-blocking view (no call blocks the event loop on a network round trip)", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const base = createDenoFs();
    const calls: string[] = [];
    const view = base.nonBlocking!();
    const spy = {
      ...base,
      nonBlocking: () => {
        calls.push("nonBlocking");
        return view;
      },
    } as typeof base;
    const fs = leaseGuardedFs(spy, {
      root: `${dir}/shared`,
      principal: "default",
      ensure: () => Promise.resolve(),
    });
    assert.deepEqual(calls, ["nonBlocking"]);
    await fs.writeFile(`${dir}/a.txt`, "one");
    assert.equal(await fs.readTextFile(`${dir}/a.txt`), "one");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
