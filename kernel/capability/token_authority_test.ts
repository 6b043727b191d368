import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { parseAuditEntryId } from "../core/ids.ts";
import { tokenKey } from "./_store_keys.ts";
import { fixture, foreignKey, forge, T0, tamper } from "./_fixture_test.ts";
import type { MintOptions } from "./authority_options.ts";
import { CLOCK_SKEW_MS } from "./verify_token.ts";

const HOUR = 3_600_000;

function readWs(f: { alice: MintOptions["principal"] }): MintOptions {
  return {
    principal: f.alice,
    resource: "file:///ws/**",
    permissions: ["read"],
    ttlMs: HOUR,
    scope: "persistent",
  };
}

Deno.test({
  name: "`TokenAuthority.mint()` signs, registers and verifies a token",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const audit = parseAuditEntryId("00000000-0000-4000-8000-00000000a0d1");
    const token = await f.caps.mint({
      ...readWs(f),
      permissions: ["write", "read", "write"],
      approvalAuditId: audit,
      budgetUsdMicros: 5_000_000,
    });
    assert.deepEqual(token.claims, {
      v: 1,
      id: token.id,
      principal: "alice",
      resource: "file:///ws/**",
      permissions: ["read", "write"],
      issued_at: T0,
      expires_at: T0 + HOUR,
      scope: "persistent",
      session: null,
      issuer_key_id: f.key.keyId,
      approval_audit_id: audit,
      single_use: false,
      parent: null,
      depth: 0,
      max_depth: 0,
      budget_usd_micros: 5_000_000,
    });
    const result = await f.caps.verify(token);
    assert.ok(result.ok);
    assert.deepEqual(result.chain.map((t) => t.id), [token.id]);
    assert.deepEqual((await f.caps.get(token.id))?.toJSON(), token.toJSON());
    assert.ok(Object.isFrozen(token.claims));
    assert.ok(Object.isFrozen(token.claims.permissions));
  },
});

Deno.test({
  name: "`TokenAuthority.verify()` rejects claims edited after signing",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await f.caps.mint(readWs(f));
    const edits: Record<string, unknown>[] = [
      { permissions: ["read", "write"] },
      { expires_at: T0 + 1000 * HOUR },
      { principal: "bob" },
      { single_use: true },
      { max_depth: 8 },
    ];
    for (const edit of edits) {
      const result = await f.caps.verify(tamper(token, edit));
      assert.equal(result.ok, false, JSON.stringify(edit));
      assert.equal(!result.ok && result.code, "CAPABILITY_INVALID");
    }
  },
});

Deno.test({
  name:
    "`TokenAuthority.verify()` rejects a widened resource carrying the original signature, even if written to the store",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await f.caps.mint(readWs(f));
    const widened = tamper(token, { resource: "file:///**" });
    assert.ok(widened.grants("file:///etc/passwd", "read"));
    const presented = await f.caps.verify(widened);
    assert.ok(!presented.ok && presented.code === "CAPABILITY_INVALID");
    // An attacker with write access to the store replaces the record too.
    await f.store.set(tokenKey(token.id), JSON.parse(JSON.stringify(widened)));
    const stored = await f.caps.verify(widened);
    assert.ok(!stored.ok && stored.code === "CAPABILITY_INVALID");
    assert.match(!stored.ok ? stored.reason : "", /signature does not verify/);
  },
});

Deno.test({
  name:
    "`TokenAuthority.verify()` rejects a token signed by a foreign key, whichever issuer it names",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const genuine = await f.caps.mint(readWs(f));
    const evil = foreignKey();
    for (const issuer of [f.key.keyId, evil.keyId]) {
      const claims = { ...genuine.claims, "issuer_key_id": issuer };
      const forged = await forge(claims, evil);
      // Even registered in the store by an attacker, it never verifies.
      await f.store.set(
        tokenKey(forged.id),
        JSON.parse(JSON.stringify(forged)),
      );
      const result = await f.caps.verify(forged);
      assert.ok(!result.ok && result.code === "CAPABILITY_INVALID", issuer);
    }
  },
});

Deno.test({
  name:
    "`TokenAuthority.verify()` trusts an earlier runtime key only when it is passed as previousKeys",
  permissions: "none",
  async fn() {
    await using old = await fixture({ key: foreignKey() });
    const token = await old.caps.mint(readWs(old));
    const rotated = await fixture({ store: old.store, seed: 7 });
    const refused = await rotated.caps.verify(token);
    assert.ok(!refused.ok && refused.code === "CAPABILITY_INVALID");
    assert.match(!refused.ok ? refused.reason : "", /untrusted issuer key/);
    const trusting = await fixture({
      store: old.store,
      seed: 8,
      previousKeys: [foreignKey().publicKey],
    });
    assert.ok((await trusting.caps.verify(token)).ok);
  },
});

Deno.test({
  name:
    "`TokenAuthority.verify()` accepts an expired token within the 30 s skew and refuses it after",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await f.caps.mint({ ...readWs(f), ttlMs: 60_000 });
    await f.clock.advance(60_000 + CLOCK_SKEW_MS);
    assert.ok((await f.caps.verify(token)).ok);
    await f.clock.advance(1);
    const result = await f.caps.verify(token);
    assert.ok(!result.ok && result.code === "CAPABILITY_EXPIRED");
    await assert.rejects(
      f.caps.verifyOrThrow(token),
      (e) => KernelError.is(e, "CAPABILITY_EXPIRED"),
    );
    const early = await f.caps.verify(token, { now: T0 + 1 });
    assert.ok(early.ok);
  },
});

Deno.test({
  name: "`TokenAuthority.verify()` rejects a token issued in the future",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await f.caps.mint(readWs(f));
    const result = await f.caps.verify(token, {
      now: T0 - CLOCK_SKEW_MS - 1,
    });
    assert.ok(!result.ok && result.code === "CAPABILITY_INVALID");
  },
});

Deno.test({
  name:
    "`TokenAuthority.verify()` rejects a validly signed token that was never registered",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const genuine = await f.caps.mint(readWs(f));
    // Signed by the real runtime key, e.g. leaked from another store.
    const claims = {
      ...genuine.claims,
      id: "00000000-0000-4000-8000-00000000beef",
    };
    const orphan = await forge(claims, f.key);
    const result = await f.caps.verify(orphan);
    assert.ok(!result.ok && result.code === "CAPABILITY_INVALID");
    assert.match(!result.ok ? result.reason : "", /not registered/);
  },
});

Deno.test({
  name: "`TokenAuthority.mint()` refuses malformed requests",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const base = readWs(f);
    const { ttlMs: _ttl, ...noExpiry } = base;
    await assert.rejects(f.caps.mint(noExpiry), TypeError);
    await assert.rejects(f.caps.mint({ ...base, expiresAt: T0 }), TypeError);
    await assert.rejects(f.caps.mint({ ...base, ttlMs: -1 }), RangeError);
    await assert.rejects(f.caps.mint({ ...base, scope: "session" }), TypeError);
    await assert.rejects(
      f.caps.mint({ ...base, session: f.session }),
      TypeError,
    );
    const invalid = [
      { permissions: [] },
      { permissions: ["admin" as never] },
      { resource: "file:///ws/../etc/**" },
      { resource: "file:///ws/%2e%2e/etc" },
      { resource: "file:///ws\\x" },
      { resource: "" },
      { maxDepth: 9 },
      { budgetUsdMicros: -1 },
      { budgetUsdMicros: 0.5 },
    ];
    for (const bad of invalid) {
      await assert.rejects(
        f.caps.mint({ ...base, ...bad }),
        (e) => KernelError.is(e, "INVALID_INPUT"),
        JSON.stringify(bad),
      );
    }
    await assert.rejects(
      f.caps.mint({ ...base, resource: "file:///ws/[" }),
      (e) => KernelError.is(e, "GLOB_INVALID"),
    );
  },
});

Deno.test({
  name:
    "`TokenAuthority.mint()` makes a token that never expires only when asked explicitly",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const { ttlMs: _ttl, ...base } = readWs(f);
    const token = await f.caps.mint({ ...base, expiresAt: null });
    assert.equal(token.claims.expires_at, null);
    await f.clock.advance(10_000 * HOUR);
    assert.ok((await f.caps.verify(token)).ok);
  },
});

Deno.test({
  name:
    "`TokenAuthority.verifyOrThrow()` throws the verdict's code with the token id",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await f.caps.mint(readWs(f));
    await f.caps.verifyOrThrow(token);
    await f.caps.revoke(token.id, "test");
    await assert.rejects(
      f.caps.verifyOrThrow(token),
      (e) =>
        KernelError.is(e, "CAPABILITY_REVOKED") &&
        e.data?.tokenId === token.id,
    );
  },
});

Deno.test({
  name: "`TokenAuthority.verify()` honours an aborted signal",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const token = await f.caps.mint(readWs(f));
    await assert.rejects(
      f.caps.verify(token, { signal: AbortSignal.abort() }),
      (e) => KernelError.is(e, "ABORTED"),
    );
  },
});
