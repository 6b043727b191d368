import assert from "node:assert/strict";
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { type Fixture, fixture } from "./_fixture_test.ts";
import type { MintOptions } from "./authority_options.ts";
import { parseToken } from "./mint_token.ts";

const HOUR = 3_600_000;
const ACCESS = {
  resource: "file:///ws/report.md",
  permission: "write",
} as const;

function once(f: Fixture, edit: Partial<MintOptions> = {}) {
  return f.caps.mint({
    principal: f.alice,
    resource: "file:///ws/report.md",
    permissions: ["write"],
    ttlMs: HOUR,
    scope: "persistent",
    singleUse: true,
    ...edit,
  });
}

function used(e: unknown): boolean {
  return KernelError.is(e, "CAPABILITY_USED");
}

Deno.test({
  name:
    "`TokenAuthority.use()` lets exactly one of 100 concurrent callers spend a single-use token",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await once(f);
    const owner = { principal: f.alice, session: f.session };
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => f.caps.use(owner, ACCESS)),
    );
    const winners = results.filter((r) =>
      r.status === "fulfilled" && r.value !== null
    );
    assert.equal(winners.length, 1);
    assert.equal(
      winners[0]?.status === "fulfilled" && winners[0].value?.id,
      token.id,
    );
    for (const r of results) {
      if (r.status === "rejected") assert.ok(used(r.reason), String(r.reason));
    }
    assert.equal(await f.caps.use(owner, ACCESS), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.consume()` succeeds once among 100 concurrent calls and then reports CAPABILITY_USED",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await once(f);
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => f.caps.consume(token)),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(used(r.reason));
    }
    const verdict = await f.caps.verify(token);
    assert.ok(!verdict.ok && verdict.code === "CAPABILITY_USED");
  },
});

Deno.test({
  name: "`TokenAuthority.consume()` refuses a sequential replay",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await once(f);
    await f.caps.consume(token);
    await assert.rejects(f.caps.consume(token), used);
    // A copy parsed from the wire is the same token: still spent.
    await assert.rejects(
      f.caps.consume(parseToken(JSON.stringify(token))),
      used,
    );
  },
});

Deno.test({
  name:
    "`TokenAuthority.consume()` refuses a replay after a restart of a file-backed store",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_caps_" });
    try {
      const file = path.join(dir, "state.kv");
      let wire: string;
      {
        await using f = await fixture({
          store: new KvStore(await openKv(file)),
        });
        const token = await once(f);
        wire = JSON.stringify(token);
        await f.caps.consume(token);
      }
      await using again = await fixture({
        store: new KvStore(await openKv(file)),
        seed: 5,
      });
      await assert.rejects(again.caps.consume(parseToken(wire)), used);
      const owner = { principal: again.alice, session: again.session };
      assert.equal(await again.caps.use(owner, ACCESS), null);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`TokenAuthority.consume()` of a multi-use token verifies without spending it",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await once(f, { singleUse: false });
    await f.caps.consume(token);
    await f.caps.consume(token);
    assert.ok((await f.caps.verify(token)).ok);
  },
});

Deno.test({
  name: "`TokenAuthority.consume()` refuses a revoked single-use token",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await once(f);
    await f.caps.revoke(token.id, "withdrawn");
    await assert.rejects(
      f.caps.consume(token),
      (e) => KernelError.is(e, "CAPABILITY_REVOKED"),
    );
  },
});

Deno.test({
  name:
    "`TokenAuthority.use()` prefers a multi-use token and keeps the single-use one",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const single = await once(f);
    const multi = await once(f, { singleUse: false });
    const owner = { principal: f.alice, session: f.session };
    assert.equal((await f.caps.use(owner, ACCESS))?.id, multi.id);
    assert.equal((await f.caps.use(owner, ACCESS))?.id, multi.id);
    assert.ok((await f.caps.verify(single)).ok);
  },
});

Deno.test({
  name:
    "`TokenAuthority.use()` moves on to the next single-use token once one is spent",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const a = await once(f);
    const b = await once(f);
    const owner = { principal: f.alice, session: f.session };
    const first = await f.caps.use(owner, ACCESS);
    const second = await f.caps.use(owner, ACCESS);
    assert.deepEqual(
      new Set([first?.id, second?.id]),
      new Set([a.id, b.id]),
    );
    assert.equal(await f.caps.use(owner, ACCESS), null);
  },
});
