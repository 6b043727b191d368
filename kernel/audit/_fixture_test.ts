/**
 * Private test fixtures of `kernel/audit/`: a real `AuditLog` on an
 * in-memory Deno KV store, records, and the raw store edits an attacker with
 * write access to the store could make. (No tests here.)
 *
 * @module
 */
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import { createBlake3Hasher } from "../crypto/blake3.ts";
import { sign } from "../crypto/ed25519.ts";
import { generateKeyPair, type KeyPair } from "../crypto/key_pair.ts";
import { openKv } from "../host/open_kv.ts";
import { KvStore } from "../store/kv_store.ts";
import { FakeClock, SeededRandom } from "../testing/mod.ts";
import { decodeEntry, encodeEntry } from "./_entry_codec.ts";
import { entryKey } from "./_keys.ts";
import type { AuditRecord } from "./audit_entry.ts";
import { entryHashInput } from "./audit_entry.ts";
import { AuditLog } from "./audit_log.ts";
import type { AuditLogDeps } from "./audit_log_options.ts";

/** Principals used by the tests. */
export const ALICE = "alice" as PrincipalId;
/** A second principal. */
export const BOB = "bob" as PrincipalId;
/** Sessions used by the tests. */
export const S1 = "6f1c9a3e-0000-4000-8000-000000000001" as SessionId;
/** A second session. */
export const S2 = "6f1c9a3e-0000-4000-8000-000000000002" as SessionId;
/** A capsule. */
export const FS = "fs" as CapsuleId;

/** A log on a fresh in-memory store. */
export interface Fixture extends AsyncDisposable {
  readonly store: KvStore;
  readonly log: AuditLog;
  readonly keyPair: KeyPair;
  readonly clock: FakeClock;
  readonly random: SeededRandom;
}

/**
 * Opens a fresh store and a log on it.
 *
 * @param extra Deps to override.
 * @returns The fixture; dispose it to close the store.
 */
export async function openFixture(
  extra: Partial<AuditLogDeps> = {},
): Promise<Fixture> {
  const store = new KvStore(await openKv(":memory:"));
  const random = new SeededRandom(42);
  const clock = new FakeClock(1_700_000_000_000);
  const keyPair = extra.keyPair ?? generateKeyPair(random);
  const log = new AuditLog({ store, clock, random, keyPair, ...extra });
  return {
    store,
    log,
    keyPair,
    clock,
    random,
    [Symbol.asyncDispose]: () => store.close(),
  };
}

/**
 * A record for `principal` with a few fields overridden.
 *
 * @param principal The chain.
 * @param over Fields to override.
 * @returns The record.
 */
export function rec(
  principal: PrincipalId,
  over: Partial<AuditRecord> = {},
): AuditRecord {
  return {
    principal,
    session: S1,
    capsule: FS,
    call_id: "call-1",
    action: { type: "file_read", path: "/ws/a.txt" },
    decision: "allowed",
    proof: { type: "capability", token_id: "t-1" },
    outcome: null,
    ...over,
  };
}

/**
 * Appends `n` entries one after another, advancing the clock 1 s each.
 *
 * @param f The fixture.
 * @param n How many.
 * @param principal The chain.
 */
export async function fill(
  f: Fixture,
  n: number,
  principal: PrincipalId = ALICE,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await f.log.append(rec(principal, { call_id: `call-${i}` }));
    await f.clock.advance(1_000);
  }
}

/**
 * Edits an entry's body in the store, keeping its stored hash and signature.
 *
 * @param f The fixture.
 * @param at Chain and seq.
 * @param edit Changes the parsed body in place.
 */
export async function editStored(
  f: Fixture,
  at: { principal: PrincipalId; seq: number },
  edit: (body: Record<string, unknown>) => void,
): Promise<void> {
  const key = entryKey(at.principal, at.seq);
  const decoded = decodeEntry((await f.store.get(key))?.value);
  if (!decoded.ok) throw new Error(decoded.issue);
  const body = JSON.parse(new TextDecoder().decode(decoded.value.body));
  edit(body);
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  await f.store.set(
    key,
    encodeEntry(bytes, decoded.value.digest, decoded.value.signature),
  );
}

/**
 * Rewrites an entry with a fresh, correct hash and a signature by `signer`
 * (an attacker's key, or the real key to forge a consistent-looking entry).
 *
 * @param f The fixture.
 * @param at Chain and seq.
 * @param signer Who signs.
 * @param edit Changes to the body before hashing.
 */
export async function resignStored(
  f: Fixture,
  at: { principal: PrincipalId; seq: number },
  signer: KeyPair,
  edit: (body: Record<string, unknown>) => void = () => {},
): Promise<void> {
  const key = entryKey(at.principal, at.seq);
  const decoded = decodeEntry((await f.store.get(key))?.value);
  if (!decoded.ok) throw new Error(decoded.issue);
  const { hash: _h, signature: _s, ...body } = decoded.value.entry;
  const changed = { ...body } as Record<string, unknown>;
  edit(changed);
  const bytes = entryHashInput(changed as never);
  const digest = (await createBlake3Hasher()).hash(bytes);
  await f.store.set(
    key,
    encodeEntry(bytes, digest, await sign(signer, digest)),
  );
}

/**
 * Reads the stored bytes of an entry.
 *
 * @param f The fixture.
 * @param principal The chain.
 * @param seq The position.
 * @returns The value.
 */
export async function rawEntry(
  f: Fixture,
  principal: PrincipalId,
  seq: number,
): Promise<Uint8Array> {
  const v = (await f.store.get(entryKey(principal, seq)))?.value;
  if (!(v instanceof Uint8Array)) throw new Error(`no entry ${seq}`);
  return v;
}
