/**
 * Private: building, hashing and signing the entries of one append.
 *
 * Hashing is sequential (each entry links to the previous hash); the
 * signatures of a group commit are then made concurrently (WebCrypto signs
 * on a thread pool), so a batch costs about one signature of latency per
 * core instead of one per entry.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { AuditEntryId, PrincipalId } from "../core/ids.ts";
import type { Blake3Hasher } from "../crypto/blake3.ts";
import { sign } from "../crypto/ed25519.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import {
  type AuditChainHead,
  type AuditEntry,
  type AuditEntryBody,
  type AuditRecord,
  entryHashInput,
  GENESIS_HASH,
} from "./audit_entry.ts";
import { encodeEntry, HEADER_BYTES } from "./_entry_codec.ts";

/** What building an entry needs. */
export interface SealContext {
  /** The chain. */
  readonly principal: PrincipalId;
  /** The BLAKE3 hasher. */
  readonly hasher: Blake3Hasher;
  /** Time source. */
  readonly now: () => number;
  /** Id source. */
  readonly newId: () => AuditEntryId;
  /** The store's max value size in bytes. */
  readonly maxValueBytes: number;
}

/** An entry body with its hash, not yet signed. */
export interface Hashed {
  /** The body. */
  readonly body: AuditEntryBody;
  /** Its canonical bytes (what is hashed and stored). */
  readonly bytes: Uint8Array;
  /** BLAKE3 of `bytes`. */
  readonly digest: Uint8Array;
  /** `digest` as hex. */
  readonly hash: string;
  /** The key that signs it. */
  readonly signer: KeyPair;
}

/** A signed entry and its store value. */
export interface Sealed {
  /** The entry. */
  readonly entry: AuditEntry;
  /** The encoded store value. */
  readonly stored: Uint8Array;
}

/**
 * Builds and hashes the entry of a record after `head`.
 *
 * @param ctx The append.
 * @param head The chain head before the entry.
 * @param signer The key that will sign it.
 * @param record The record.
 * @returns The hashed entry.
 * @throws {KernelError} `CANONICAL_JSON_UNSUPPORTED`; `AUDIT_FAILED` when the
 * entry would exceed the store's value limit.
 */
export function hashRecord(
  ctx: SealContext,
  head: AuditChainHead | null,
  signer: KeyPair,
  record: AuditRecord,
): Hashed {
  return hashBody(ctx, {
    ...bodyBase(ctx, head, signer),
    session: record.session,
    capsule: record.capsule,
    call_id: record.call_id,
    action: record.action,
    decision: record.decision,
    proof: record.proof,
    outcome: record.outcome,
  }, signer);
}

/**
 * Builds and hashes a `key_rotated` entry, signed by the old key, that
 * announces `next`.
 *
 * @param ctx The append.
 * @param head The chain head before the entry.
 * @param old The key the chain is on.
 * @param next The new key.
 * @returns The hashed entry.
 * @throws {KernelError} `AUDIT_FAILED` over the value limit.
 */
export function hashRotation(
  ctx: SealContext,
  head: AuditChainHead,
  old: KeyPair,
  next: KeyPair,
): Hashed {
  return hashBody(ctx, {
    ...bodyBase(ctx, head, old),
    session: null,
    capsule: null,
    call_id: null,
    action: {
      type: "key_rotated",
      new_key_id: next.keyId,
      new_public_key: publicKeyToBase64(next.publicKey),
    },
    decision: "info",
    proof: { type: "system", reason: "runtime key rotation" },
    outcome: null,
  }, old);
}

/**
 * Signs hashed entries, concurrently.
 *
 * @param hashed The entries.
 * @returns The signed entries, in order.
 */
export async function signAll(hashed: readonly Hashed[]): Promise<Sealed[]> {
  const signatures = await Promise.all(
    hashed.map((h) => sign(h.signer, h.digest)),
  );
  return hashed.map((h, i) => {
    const signature = signatures[i]!;
    return {
      entry: { ...h.body, hash: h.hash, signature: signature.toBase64() },
      stored: encodeEntry(h.bytes, h.digest, signature),
    };
  });
}

/**
 * The head after an entry.
 *
 * @param h The entry.
 * @param keyId The key that signs the next entry.
 * @returns The head.
 */
export function headAfter(h: Hashed, keyId: string): AuditChainHead {
  return { seq: h.body.seq, hash: h.hash, id: h.body.id, key_id: keyId };
}

function bodyBase(
  ctx: SealContext,
  head: AuditChainHead | null,
  signer: KeyPair,
): Pick<
  AuditEntryBody,
  "id" | "seq" | "timestamp" | "principal" | "prev_hash" | "key_id"
> {
  return {
    id: ctx.newId(),
    seq: head === null ? 0 : head.seq + 1,
    timestamp: ctx.now(),
    principal: ctx.principal,
    prev_hash: head === null ? GENESIS_HASH : head.hash,
    key_id: signer.keyId,
  };
}

function hashBody(
  ctx: SealContext,
  body: AuditEntryBody,
  signer: KeyPair,
): Hashed {
  const bytes = entryHashInput(body);
  const size = bytes.length + HEADER_BYTES + 1; // + the store's 1-byte tag
  if (size > ctx.maxValueBytes) {
    throw new KernelError(
      "AUDIT_FAILED",
      `the entry is ${size} bytes stored, over the store's limit of ${ctx.maxValueBytes}`,
      { data: { size, limit: ctx.maxValueBytes } },
    );
  }
  const digest = ctx.hasher.hash(bytes);
  return { body, bytes, digest, hash: digest.toHex(), signer };
}
