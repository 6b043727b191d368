import assert from "node:assert/strict";
import * as path from "node:path";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import {
  principalKey,
  sessionKey,
  tokenKey,
  TOKENS_PREFIX,
} from "./_store_keys.ts";
import { type Fixture, fixture } from "./_fixture_test.ts";
import type { MintOptions } from "./authority_options.ts";
import { CLOCK_SKEW_MS } from "./verify_token.ts";

const HOUR = 3_600_000;
const READ = { resource: "file:///ws/notes.md", permission: "read" } as const;

function grant(f: Fixture, edit: Partial<MintOptions> = {}) {
  return f.caps.mint({
    principal: f.alice,
    resource: "file:///ws/**",
    permissions: ["read"],
    ttlMs: HOUR,
    scope: "persistent",
    ...edit,
  });
}

async function countTokens(f: Fixture): Promise<number> {
  let n = 0;
  for await (const _ of f.store.list(TOKENS_PREFIX)) n++;
  return n;
}

Deno.test({
  name: "`TokenAuthority.find()` never returns alice's token to bob",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await grant(f);
    const alice = { principal: f.alice, session: f.session };
    const bob = { principal: f.bob, session: f.session };
    assert.equal((await f.caps.find(alice, READ))?.id, token.id);
    assert.equal(await f.caps.find(bob, READ), null);
    assert.equal(await f.caps.use(bob, READ), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.find()` ignores a token planted in another principal's index",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await grant(f);
    await f.store.set(principalKey(f.bob, token.id), {
      session: null,
      single_use: false,
    });
    const bob = { principal: f.bob, session: f.session };
    assert.equal(await f.caps.find(bob, READ), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.find()` shows a session token only to its own session, a persistent one to all",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const bound = await grant(f, { scope: "session", session: f.session });
    const mine = { principal: f.alice, session: f.session };
    const other = { principal: f.alice, session: f.otherSession };
    assert.equal((await f.caps.find(mine, READ))?.id, bound.id);
    assert.equal(await f.caps.find(other, READ), null);
    const everywhere = await grant(f);
    assert.equal((await f.caps.find(other, READ))?.id, everywhere.id);
  },
});

Deno.test({
  name:
    "`TokenAuthority.find()` returns null for a missing permission or resource",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    await grant(f);
    const owner = { principal: f.alice, session: f.session };
    const write = { resource: "file:///ws/notes.md", permission: "write" };
    assert.equal(await f.caps.find(owner, write as typeof READ), null);
    const outside = { resource: "file:///etc/passwd", permission: "read" };
    assert.equal(await f.caps.find(owner, outside as typeof READ), null);
    const sneaky = { resource: "file:///ws/../etc/passwd", permission: "read" };
    assert.equal(await f.caps.find(owner, sneaky as typeof READ), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.find()` skips expired (without skew), revoked and consumed tokens",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const owner = { principal: f.alice, session: f.session };
    const short = await grant(f, { ttlMs: 1_000 });
    const revoked = await grant(f);
    const once = await grant(f, { singleUse: true });
    await f.caps.revoke(revoked.id, "test");
    assert.equal((await f.caps.find(owner, READ))?.id, short.id);
    await f.clock.advance(1_001);
    // Lookups are strict: no skew, though verify() would still accept it.
    assert.ok((await f.caps.verify(short)).ok);
    assert.equal((await f.caps.find(owner, READ))?.id, once.id);
    await f.caps.consume(once);
    assert.equal(await f.caps.find(owner, READ), null);
  },
});

Deno.test({
  name:
    "`TokenAuthority.clearSession()` drops that session's tokens and their children only",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const mine = await grant(f, {
      scope: "session",
      session: f.session,
      maxDepth: 1,
    });
    const child = await f.caps.attenuate(mine);
    const other = await grant(f, { scope: "session", session: f.otherSession });
    const persistent = await grant(f);
    assert.equal(await f.caps.clearSession(f.session), 2);
    for (const token of [mine, child]) {
      const result = await f.caps.verify(token);
      assert.ok(!result.ok && result.code === "CAPABILITY_INVALID");
      assert.equal(await f.store.get(tokenKey(token.id)), null);
    }
    assert.ok((await f.caps.verify(other)).ok);
    assert.ok((await f.caps.verify(persistent)).ok);
    for await (const _ of f.store.list(sessionKey(f.session))) {
      assert.fail("the session index should be empty");
    }
    const owner = { principal: f.alice, session: f.session };
    assert.equal((await f.caps.find(owner, READ))?.id, persistent.id);
  },
});

Deno.test({
  name:
    "`TokenAuthority.cleanupExpired()` deletes only tokens expired beyond the skew",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const short = await grant(f, { ttlMs: 1_000 });
    const long = await grant(f, { ttlMs: HOUR });
    const forever = await f.caps.mint({
      principal: f.alice,
      resource: "file:///ws/**",
      permissions: ["read"],
      expiresAt: null,
      scope: "persistent",
    });
    await f.clock.advance(1_000 + CLOCK_SKEW_MS);
    assert.equal(await f.caps.cleanupExpired(), 0);
    await f.clock.advance(1);
    assert.equal(await f.caps.cleanupExpired(), 1);
    assert.equal(await f.caps.get(short.id), null);
    assert.equal(await countTokens(f), 2);
    assert.ok((await f.caps.verify(long)).ok);
    assert.ok((await f.caps.verify(forever)).ok);
  },
});

Deno.test({
  name:
    "`TokenAuthority` keeps persistent tokens across a restart of a file-backed store",
  permissions: { read: true, write: true },
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "astrid_caps_" });
    try {
      const file = path.join(dir, "state.kv");
      let id: string;
      {
        await using f = await fixture({
          store: new KvStore(await openKv(file)),
        });
        id = (await grant(f)).id;
        await grant(f, { scope: "session", session: f.session });
      }
      await using again = await fixture({
        store: new KvStore(await openKv(file)),
        seed: 3,
      });
      const owner = { principal: again.alice, session: again.otherSession };
      const found = await again.caps.find(owner, READ);
      assert.equal(found?.id, id);
      assert.ok(found && (await again.caps.verify(found)).ok);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
