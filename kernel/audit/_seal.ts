/**
 * Private: building, hashing and signing the entries of one append.
 *
 * Hashing is sequential (each entry links to the previous hash). A group
 * commit is signed once: the last entry of the batch carries an Ed25519
 * signature over its hash, which covers every earlier entry of the batch
 * through the `prev_hash` links; the others are stored unsigned (format 2,
 * see `_entry_codec.ts`). An entry whose successor in the batch has another
 * signer (a `key_rotated` entry, signed by the old key) is signed too.
 *
 * @module
 */
import { canonicalBytes } from "../core/canonical_json.ts";
import { KernelError } from "../core/errors.ts";
import type { AuditEntryId, PrincipalId } from "../core/ids.ts";
import type { Blake3Hasher } from "../crypto/blake3.ts";
import { signNow } from "../crypto/ed25519.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import {
  type AuditChainHead,
  type AuditEntry,
  type AuditEntryBody,
  type AuditRecord,
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
  /** Id source: a fresh id for the entry at a seq. */
  readonly newId: (seq: number) => AuditEntryId;
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
    ...(record.agent === undefined ? {} : { agent: record.agent }),
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
 * Seals the hashed entries of one commit: signs the last one, and any whose
 * next entry has another signer (a rotation); the rest stay unsigned, covered
 * by the next signature through their hash links.
 *
 * @param hashed The entries, in chain order.
 * @returns The sealed entries, in order.
 */
export function signAll(hashed: readonly Hashed[]): Sealed[] {
  return hashed.map((h, i) => {
    const next = hashed[i + 1];
    const signs = next === undefined || next.signer !== h.signer ||
      isRotation(h.body);
    const signature = signs ? signNow(h.signer, h.digest) : null;
    return {
      entry: {
        ...h.body,
        hash: h.hash,
        signature: signature === null ? null : signature.toBase64(),
      },
      stored: encodeEntry(h.bytes, h.digest, signature),
    };
  });
}

function isRotation(body: AuditEntryBody): boolean {
  const action = body.action as Record<string, unknown> | null;
  return action?.type === "key_rotated";
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
  const seq = head === null ? 0 : head.seq + 1;
  return {
    id: ctx.newId(seq),
    seq,
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
  // `body` holds exactly the body fields (built above): no copy needed.
  const bytes = canonicalBytes(body);
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
