/**
 * Private: appends to a chain as one store transaction. The transaction
 * reads the chain head, so its commit is a compare-and-set on the head: if
 * another writer moved the head meanwhile, the commit fails and the store
 * runs the function again on the new head. Two appends can never fork a
 * chain. Several records may share one commit (group commit); a record that
 * cannot be written (unserialisable, too large) is refused on its own.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { AuditEntryId, PrincipalId } from "../core/ids.ts";
import type { Blake3Hasher } from "../crypto/blake3.ts";
import { sign } from "../crypto/ed25519.ts";
import { publicKeyToBase64 } from "../crypto/key_id.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { JsonValue, Store, Transaction } from "../store/store.ts";
import {
  type AuditChainHead,
  type AuditEntry,
  type AuditEntryBody,
  type AuditRecord,
  entryHashInput,
  GENESIS_HASH,
} from "./audit_entry.ts";
import { encodeEntry, HEADER_BYTES } from "./_entry_codec.ts";
import { asHead, entryKey, headKey, idKey, indexKeys } from "./_keys.ts";

/** Max entries one commit may carry in total bytes (Deno KV allows ~800 KB). */
const BATCH_BYTES = 512 * 1024;

/** What one append needs. */
export interface AppendContext {
  /** The chain. */
  readonly principal: PrincipalId;
  /** The entries to add, in order (none: only bring the chain to `current`). */
  readonly records: readonly AuditRecord[];
  /** The key that signs new entries (read once per attempt). */
  readonly current: () => KeyPair;
  /** Keys this runtime held before, by key id (to sign a rotation entry). */
  readonly signers: ReadonlyMap<string, KeyPair>;
  /** The BLAKE3 hasher. */
  readonly hasher: Blake3Hasher;
  /** Time source. */
  readonly now: () => number;
  /** Id source. */
  readonly newId: () => AuditEntryId;
  /** The store's max value size in bytes. */
  readonly maxValueBytes: number;
}

/** What {@linkcode appendEntries} wrote. */
export interface AppendResult {
  /** The rotation entry written first, when the chain was on an older key. */
  readonly rotation: AuditEntry | null;
  /**
   * Per record, in order: its entry; the error that kept it out (the others
   * were still written); or `undefined` when the commit was full (retry it).
   */
  readonly results: readonly (AuditEntry | KernelError | undefined)[];
}

/**
 * Appends as one store transaction (retried on conflicts). The transaction
 * reads the chain head, so its commit is a compare-and-set on the head.
 *
 * @param store The audit store.
 * @param ctx The append.
 * @returns The entries written and the records refused.
 * @throws {KernelError} `AUDIT_FAILED` when nothing could be written.
 */
export async function appendEntries(
  store: Store,
  ctx: AppendContext,
): Promise<AppendResult> {
  try {
    const result = await store.transact(
      (tx) => appendInTransaction(tx, ctx),
      { maxAttempts: 1_000 },
    );
    return result.value;
  } catch (err) {
    if (KernelError.is(err, "AUDIT_FAILED")) throw err;
    throw failed(ctx.principal, err);
  }
}

async function appendInTransaction(
  tx: Transaction,
  ctx: AppendContext,
): Promise<AppendResult> {
  const p = ctx.principal;
  const current = ctx.current();
  let head = asHead((await tx.get(headKey(p)))?.value);
  const sealed: Sealed[] = [];
  let rotation: AuditEntry | null = null;
  if (head !== null && head.key_id !== current.keyId) {
    const old = ctx.signers.get(head.key_id);
    if (old === undefined) {
      throw new KernelError(
        "AUDIT_FAILED",
        `Cannot append to the audit chain of '${p}' as its next entry must be signed by key ${head.key_id}, which this runtime does not hold`,
        { data: { principal: p, keyId: head.key_id } },
      );
    }
    const body = rotationBody(bodyBase(ctx, head, old), current);
    const s = await seal(body, old, ctx);
    sealed.push(s);
    rotation = s.entry;
    head = nextHead(s.entry, current.keyId);
  }
  const results: (AuditEntry | KernelError | undefined)[] = [];
  let budget = BATCH_BYTES;
  for (const record of ctx.records) {
    if (budget <= 0) {
      results.push(undefined);
      continue;
    }
    let s: Sealed;
    try {
      s = await seal(recordBody(ctx, head, current, record), current, ctx);
    } catch (err) {
      if (
        !KernelError.is(err, "CANONICAL_JSON_UNSUPPORTED") &&
        !KernelError.is(err, "AUDIT_FAILED")
      ) throw err;
      results.push(failed(p, err));
      continue;
    }
    sealed.push(s);
    results.push(s.entry);
    head = nextHead(s.entry, current.keyId);
    budget -= s.stored.length + 1_024;
  }
  for (const { entry: e, stored } of sealed) {
    tx.set(entryKey(p, e.seq), stored);
    tx.set(idKey(p, e.id), e.seq);
    for (const k of indexKeys(e)) tx.set(k, null);
  }
  if (head !== null && sealed.length > 0) {
    tx.set(headKey(p), head as unknown as JsonValue);
  }
  return { rotation, results };
}

interface Sealed {
  readonly entry: AuditEntry;
  readonly stored: Uint8Array;
}

function failed(principal: string, err: unknown): KernelError {
  const why = err instanceof Error ? err.message : String(err);
  return new KernelError(
    "AUDIT_FAILED",
    `Cannot append to the audit chain of '${principal}': ${why}`,
    { data: { principal }, cause: err },
  );
}

function recordBody(
  ctx: AppendContext,
  head: AuditChainHead | null,
  signer: KeyPair,
  record: AuditRecord,
): AuditEntryBody {
  return {
    ...bodyBase(ctx, head, signer),
    session: record.session,
    capsule: record.capsule,
    call_id: record.call_id,
    action: record.action,
    decision: record.decision,
    proof: record.proof,
    outcome: record.outcome,
  };
}

function bodyBase(
  ctx: AppendContext,
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

function rotationBody(
  base: ReturnType<typeof bodyBase>,
  next: KeyPair,
): AuditEntryBody {
  return {
    ...base,
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
  };
}

async function seal(
  body: AuditEntryBody,
  keyPair: KeyPair,
  ctx: AppendContext,
): Promise<Sealed> {
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
  const signature = await sign(keyPair, digest);
  return {
    entry: { ...body, hash: digest.toHex(), signature: signature.toBase64() },
    stored: encodeEntry(bytes, digest, signature),
  };
}

function nextHead(entry: AuditEntry, signer: string): AuditChainHead {
  return { seq: entry.seq, hash: entry.hash, id: entry.id, key_id: signer };
}
