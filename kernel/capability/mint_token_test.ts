import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { runtimeKey } from "./_fixture_test.ts";
import {
  CapabilityToken,
  parseToken,
  safeParseToken,
  signToken,
} from "./mint_token.ts";
import type { TokenClaims } from "./token_claims.ts";
import { MAX_TOKEN_JSON_LENGTH } from "./token_wire.ts";

const key = runtimeKey();

function claims(edit: Record<string, unknown> = {}): TokenClaims {
  return {
    v: 1,
    id: "00000000-0000-4000-8000-000000000001",
    principal: "alice",
    resource: "file:///ws/**",
    permissions: ["read", "write"],
    issued_at: 1_000,
    expires_at: 2_000,
    scope: "persistent",
    session: null,
    issuer_key_id: key.keyId,
    approval_audit_id: null,
    single_use: false,
    parent: null,
    depth: 0,
    max_depth: 0,
    budget_usd_micros: null,
    ...edit,
  } as unknown as TokenClaims;
}

function invalid(e: unknown): boolean {
  return KernelError.is(e, "CAPABILITY_INVALID");
}

Deno.test({
  name: "`CapabilityToken` cannot be constructed without the module key",
  permissions: "none",
  async fn() {
    const real = await signToken(claims(), key);
    const signature = real.signature;
    assert.throws(
      () => new CapabilityToken(Symbol("guess"), claims(), signature),
      TypeError,
    );
    assert.throws(
      () =>
        new CapabilityToken(
          Symbol.for("CapabilityToken.construct"),
          claims(),
          signature,
        ),
      TypeError,
    );
    class Evil extends CapabilityToken {
      constructor() {
        super(Symbol("CapabilityToken.construct"), claims(), signature);
      }
    }
    assert.throws(() => new Evil(), TypeError);
  },
});

Deno.test({
  name:
    "`CapabilityToken` exposes frozen claims and copies of its signature and payload",
  permissions: "none",
  async fn() {
    const token = await signToken(claims(), key);
    assert.throws(() => {
      (token.claims as { resource: string }).resource = "file:///**";
    }, TypeError);
    assert.throws(() => {
      (token.claims.permissions as string[]).push("delete");
    }, TypeError);
    token.signature.fill(0);
    token.payload.fill(0);
    assert.notEqual(token.signature[0], 0);
    assert.equal(token.payload[0], "{".charCodeAt(0));
    assert.equal(JSON.stringify(Object.keys(token)), "[]");
  },
});

Deno.test({
  name: "`CapabilityToken.grants()` needs both the pattern and the permission",
  permissions: "none",
  async fn() {
    const token = await signToken(claims(), key);
    assert.ok(token.grants("file:///ws/a/b.txt", "read"));
    assert.ok(token.grants("file:///ws", "write"));
    assert.ok(!token.grants("file:///ws/a", "delete"));
    assert.ok(!token.grants("file:///wsx/a", "read"));
    assert.ok(!token.grants("file:///ws/../etc/passwd", "read"));
    assert.ok(!token.grants("file:///ws/%2e%2e/etc/passwd", "read"));
  },
});

Deno.test({
  name: "`parseToken()` round-trips the wire form of a signed token",
  permissions: "none",
  async fn() {
    const token = await signToken(claims(), key);
    const again = parseToken(JSON.stringify(token));
    assert.deepEqual(again.toJSON(), token.toJSON());
    assert.deepEqual(again.payload, token.payload);
    assert.equal(parseToken(token.toJSON()).id, token.id);
  },
});

Deno.test({
  name: "`parseToken()` rejects every malformed field of untrusted claims",
  permissions: "none",
  async fn() {
    const signature = (await signToken(claims(), key)).toJSON().signature;
    const bad: Record<string, unknown>[] = [
      { v: 2 },
      { id: "not-a-uuid" },
      { principal: "alice smith" },
      { resource: "file:///ws/../etc" },
      { permissions: [] },
      { permissions: ["read", "read"] },
      { permissions: ["sudo"] },
      { permissions: "read" },
      { issued_at: -1 },
      { issued_at: 1.5 },
      { expires_at: 1_000 },
      { expires_at: "2000" },
      { scope: "global" },
      { session: "00000000-0000-4000-8000-000000000009" },
      { scope: "session", session: null },
      { issuer_key_id: "XYZ" },
      { approval_audit_id: "x" },
      { single_use: "yes" },
      { parent: "00000000-0000-4000-8000-000000000002" },
      { depth: 1 },
      {
        depth: 9,
        max_depth: 9,
        parent: "00000000-0000-4000-8000-000000000002",
      },
      { max_depth: 9 },
      { budget_usd_micros: -5 },
      { extra: true },
    ];
    for (const edit of bad) {
      const input = { claims: { ...claims(), ...edit }, signature };
      assert.throws(() => parseToken(input), invalid, JSON.stringify(edit));
    }
    const { v: _v, ...missing } = claims();
    assert.throws(() => parseToken({ claims: missing, signature }), invalid);
  },
});

Deno.test({
  name: "`parseToken()` rejects a malformed envelope or signature",
  permissions: "none",
  async fn() {
    const good = (await signToken(claims(), key)).toJSON();
    const inputs: unknown[] = [
      null,
      "[]",
      "not json",
      { claims: good.claims },
      { ...good, signature: good.signature.slice(4) },
      { ...good, signature: `${good.signature} ` },
      { ...good, signature: new Uint8Array(63).toBase64() },
      { ...good, extra: 1 },
      JSON.stringify({ ...good, pad: "x".repeat(MAX_TOKEN_JSON_LENGTH) }),
    ];
    for (const input of inputs) {
      assert.throws(() => parseToken(input), invalid, String(input));
      assert.equal(safeParseToken(input).ok, false);
    }
  },
});

Deno.test({
  name: "`parseToken()` is not fooled by getters that change their answer",
  permissions: "none",
  async fn() {
    const good = (await signToken(claims(), key)).toJSON();
    let reads = 0;
    const sneaky = { ...good.claims } as Record<string, unknown>;
    Object.defineProperty(sneaky, "resource", {
      enumerable: true,
      get: () => (reads++ === 0 ? "file:///ws/**" : "file:///**"),
    });
    const token = parseToken({ claims: sneaky, signature: good.signature });
    assert.equal(token.claims.resource, "file:///ws/**");
    assert.ok(!token.grants("file:///etc/passwd", "read"));
  },
});

Deno.test({
  name: "`signToken()` refuses claims that name another issuer key",
  permissions: "none",
  async fn() {
    await assert.rejects(
      signToken(claims({ issuer_key_id: "0123456789abcdef" }), key),
      (e) => KernelError.is(e, "INVALID_INPUT"),
    );
  },
});
