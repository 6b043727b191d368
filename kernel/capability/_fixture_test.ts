/**
 * Private, for this folder's tests and bench (named `_test.ts` so that the
 * architecture rules treat it as test code, which may use kernel/host and
 * kernel/testing): a {@linkcode TokenAuthority}
 * on a real in-memory Deno KV store with a fake clock and seeded randomness,
 * plus helpers to forge tokens the way an attacker would (sign JSON with
 * some key and feed it to `parseToken`).
 *
 * @module
 */
import { canonicalBytes } from "../core/canonical_json.ts";
import {
  newSessionId,
  parsePrincipalId,
  type PrincipalId,
  type SessionId,
} from "../core/ids.ts";
import { sign } from "../crypto/ed25519.ts";
import { type KeyPair, keyPairFromSeed } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import type { Store } from "../store/store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import assert from "node:assert/strict";
import { type CapabilityToken, parseToken } from "./mint_token.ts";
import { TokenAuthority } from "./token_authority.ts";

/** The start time of every fixture clock. */
export const T0 = 1_700_000_000_000;

/** What {@linkcode fixture} builds. */
export interface Fixture extends AsyncDisposable {
  /** The real store (closed on dispose). */
  readonly store: Store;
  /** The fake clock, at {@linkcode T0}. */
  readonly clock: FakeClock;
  /** The runtime key. */
  readonly key: KeyPair;
  /** The authority under test. */
  readonly caps: TokenAuthority;
  /** Principal `alice`. */
  readonly alice: PrincipalId;
  /** Principal `bob`. */
  readonly bob: PrincipalId;
  /** One session. */
  readonly session: SessionId;
  /** Another session. */
  readonly otherSession: SessionId;
}

/**
 * Builds a fixture on a fresh `:memory:` store (or the given one).
 *
 * @param options A store to reuse, a clock, keys, the id seed (use a new
 * one when reopening a store, or ids repeat).
 * @returns The fixture; dispose it to close the store.
 */
export async function fixture(
  options: {
    store?: Store;
    clock?: FakeClock;
    previousKeys?: readonly Uint8Array[];
    key?: KeyPair;
    seed?: number;
  } = {},
): Promise<Fixture> {
  const store = options.store ?? new KvStore(await openKv(":memory:"));
  const clock = options.clock ?? new FakeClock(T0);
  const random = new SeededRandom(options.seed ?? 42);
  const key = options.key ?? runtimeKey();
  const caps = new TokenAuthority({
    store,
    clock,
    random,
    runtimeKey: key,
    ...(options.previousKeys ? { previousKeys: options.previousKeys } : {}),
  });
  return {
    store,
    clock,
    key,
    caps,
    alice: parsePrincipalId("alice"),
    bob: parsePrincipalId("bob"),
    session: newSessionId(new SeededRandom(1)),
    otherSession: newSessionId(new SeededRandom(2)),
    async [Symbol.asyncDispose]() {
      await store.close();
    },
  };
}

/** @returns The fixed runtime key of the fixtures. */
export function runtimeKey(): KeyPair {
  return keyPairFromSeed(new Uint8Array(32).fill(0x11));
}

/** @returns A key that is not the runtime key. */
export function foreignKey(): KeyPair {
  return keyPairFromSeed(new Uint8Array(32).fill(0x66));
}

/**
 * Builds a token the way an attacker would: take claims, sign their canonical
 * JSON with some key, and parse the result as untrusted wire JSON.
 *
 * @param claims The claims to sign (any JSON object).
 * @param key The signing key.
 * @returns The parsed token.
 */
export async function forge(
  claims: Record<string, unknown>,
  key: KeyPair,
): Promise<CapabilityToken> {
  const signature = await sign(key, canonicalBytes(claims));
  return parseToken({ claims, signature: signature.toBase64() });
}

/**
 * Re-parses a token after editing its wire JSON (keeping the signature).
 *
 * @param token The original token.
 * @param edit Changes to apply to the claims.
 * @returns The edited token.
 */
export function tamper(
  token: CapabilityToken,
  edit: Record<string, unknown>,
): CapabilityToken {
  const wire = JSON.parse(JSON.stringify(token));
  return parseToken({ ...wire, claims: { ...wire.claims, ...edit } });
}

Deno.test({
  name:
    "`fixture()` gives a working authority, and `forge()` a token that parses but never verifies",
  permissions: "none",
  async fn() {
    await using f = await fixture();
    const genuine = await f.caps.mint({
      principal: f.alice,
      resource: "file:///ws/**",
      permissions: ["read"],
      ttlMs: 60_000,
      scope: "persistent",
    });
    assert.ok((await f.caps.verify(genuine)).ok);
    const forged = await forge({ ...genuine.claims }, foreignKey());
    assert.equal(forged.id, genuine.id);
    assert.equal((await f.caps.verify(forged)).ok, false);
    assert.equal((await f.caps.verify(tamper(genuine, {}))).ok, true);
  },
});
