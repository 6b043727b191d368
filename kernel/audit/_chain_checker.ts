/**
 * Private: the synchronous checks of a chain walk, entry by entry, and the
 * key-trust state (pinned keys, keys announced by rotation entries, the key
 * that must sign next). The Ed25519 check itself is handed back as a job so
 * that many run in parallel (see `_signature_window.ts`).
 *
 * Order of checks per position: key position, shape, principal, hash, seq,
 * prev_hash, key trust, rotation content. The first failing check names the
 * issue.
 *
 * An unsigned entry (group commit, format 2) passes these checks and waits:
 * the next signed entry's job covers it, since that signature is over a hash
 * that links back through it. A `key_rotated` entry must carry its own
 * signature; {@linkcode ChainChecker.unsealed} names the first entry that no
 * signature covers at the end of the walk.
 *
 * @module
 */
import type { Blake3Hasher } from "../crypto/blake3.ts";
import { keyId } from "../crypto/key_id.ts";
import { type AuditEntry, GENESIS_HASH } from "./audit_entry.ts";
import { decodeEntry } from "./_entry_codec.ts";
import type { AuditIssue, AuditIssueCode } from "./verify_result.ts";

/** One signature to check, with the positions it covers. */
export interface SignatureJob {
  /** Chain position of the first entry it covers (the batch's first). */
  readonly seq: number;
  /** Id of that entry. */
  readonly id: string;
  /** Entries it covers: the signed one and the unsigned ones before it. */
  readonly covers: number;
  /** Chain position of the signed entry. */
  readonly signedSeq: number;
  /** Id of the signed entry. */
  readonly signedId: string;
  /** Key id of the signer. */
  readonly keyId: string;
  /** The signer's public key (trusted at this point of the chain). */
  readonly publicKey: Uint8Array;
  /** The 32 hash bytes that were signed. */
  readonly digest: Uint8Array;
  /** The 64-byte signature. */
  readonly signature: Uint8Array;
}

/**
 * What {@linkcode ChainChecker.check} found: an issue, the signature job of a
 * signed entry, or neither (an unsigned entry, waiting for its batch's
 * signature).
 */
export type CheckOutcome =
  | { readonly issue: AuditIssue; readonly job?: undefined }
  | { readonly job: SignatureJob; readonly issue?: undefined }
  | { readonly job?: undefined; readonly issue?: undefined };

const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/** Walks one chain in order. */
export class ChainChecker {
  #principal: string;
  #hasher: Blake3Hasher;
  #pinned: ReadonlyMap<string, Uint8Array>;
  #announced = new Map<string, Uint8Array>();
  #expected = 0;
  #prevHash = GENESIS_HASH;
  #lastId: string | null = null;
  #signer: string | null = null;
  /** First unsigned entry not yet covered by a signature. */
  #pending: { seq: number; id: string } | null = null;

  /**
   * @param principal The chain's principal.
   * @param deps Pinned keys by key id, and the hasher.
   */
  constructor(
    principal: string,
    deps: {
      readonly pinned: ReadonlyMap<string, Uint8Array>;
      readonly hasher: Blake3Hasher;
    },
  ) {
    this.#principal = principal;
    this.#pinned = deps.pinned;
    this.#hasher = deps.hasher;
  }

  /** The next expected seq (= entries accepted so far). */
  get nextSeq(): number {
    return this.#expected;
  }

  /** Hash of the last accepted entry (genesis hash before the first). */
  get lastHash(): string {
    return this.#prevHash;
  }

  /** Id of the last accepted entry. */
  get lastId(): string | null {
    return this.#lastId;
  }

  /** Key id that must sign the next entry (`null` before the first). */
  get signer(): string | null {
    return this.#signer;
  }

  /**
   * The issue of a walk that ends on unsigned entries (the end of their batch
   * was removed), or `undefined` when every entry is covered.
   *
   * @returns The first uncovered entry as an issue.
   */
  unsealed(): AuditIssue | undefined {
    const p = this.#pending;
    if (p === null) return undefined;
    return bad(
      p.seq,
      p.id,
      "UNSIGNED",
      `No signature covers entries ${p.seq} to ${
        this.#expected - 1
      } (the signed end of their batch is missing)`,
    ).issue;
  }

  /**
   * Checks the entry stored at key position `position`.
   *
   * @param position The seq part of its store key (or the line number of an export).
   * @param value The stored value.
   * @returns An issue, or the signature job of an entry that passed.
   */
  check(position: unknown, value: unknown): CheckOutcome {
    const exp = this.#expected;
    if (typeof position !== "number" || position < exp) {
      return bad(
        exp,
        null,
        "MALFORMED",
        "An entry is stored under a key the chain never writes",
      );
    }
    if (position > exp) {
      const what = exp === 0
        ? `the chain starts at seq ${position}`
        : `the chain jumps from seq ${exp - 1} to seq ${position}`;
      return bad(
        exp,
        null,
        "SEQ_GAP",
        `Entry ${exp} is missing: ${what} (deleted entries)`,
      );
    }
    const decoded = decodeEntry(value);
    if (!decoded.ok) return bad(exp, null, "MALFORMED", decoded.issue);
    const { entry: e, body, digest: stored, signature } = decoded.value;
    if (e.principal !== this.#principal) {
      return bad(
        exp,
        e.id,
        "PRINCIPAL_MISMATCH",
        `The entry belongs to principal '${
          e.principal.slice(0, 64)
        }', not '${this.#principal}'`,
      );
    }
    const digest = this.#hasher.hash(body);
    if (!sameBytes(digest, stored)) {
      return bad(
        exp,
        e.id,
        "HASH_MISMATCH",
        "The entry's content does not match its hash (a field was edited)",
      );
    }
    if (e.seq !== exp) {
      return bad(
        exp,
        e.id,
        "REORDERED",
        `Position ${exp} holds entry seq ${e.seq} (entries reordered or moved)`,
      );
    }
    if (e.prev_hash !== this.#prevHash) {
      const what = exp === 0
        ? "the genesis hash"
        : `the hash of entry ${exp - 1}`;
      return bad(
        exp,
        e.id,
        "PREV_HASH_MISMATCH",
        `prev_hash is not ${what} (an entry was removed, replaced or reordered)`,
      );
    }
    const trust = this.#trust(e, signature !== null);
    if ("issue" in trust) return trust;
    this.#expected = exp + 1;
    this.#prevHash = e.hash;
    this.#lastId = e.id;
    this.#signer = trust.next;
    if (signature === null) {
      this.#pending ??= { seq: exp, id: e.id };
      return {};
    }
    const first = this.#pending ?? { seq: exp, id: e.id };
    this.#pending = null;
    return {
      job: {
        seq: first.seq,
        id: first.id,
        covers: exp - first.seq + 1,
        signedSeq: exp,
        signedId: e.id,
        keyId: e.key_id,
        publicKey: trust.publicKey,
        digest,
        signature,
      },
    };
  }

  #trust(
    e: AuditEntry,
    signed: boolean,
  ): { issue: AuditIssue } | { publicKey: Uint8Array; next: string } {
    const exp = e.seq;
    const publicKey = this.#pinned.get(e.key_id) ??
      this.#announced.get(e.key_id);
    if (publicKey === undefined) {
      const what = exp === 0
        ? "which is not pinned"
        : "which is neither pinned nor announced by a rotation entry of this chain";
      return bad(
        exp,
        e.id,
        "KEY_UNTRUSTED",
        `The entry is signed with key ${e.key_id}, ${what} (foreign key)`,
      );
    }
    if (this.#signer !== null && e.key_id !== this.#signer) {
      return bad(
        exp,
        e.id,
        "KEY_NOT_CURRENT",
        `The entry is signed with key ${e.key_id}, but the chain hands signing to key ${this.#signer}`,
      );
    }
    const action = e.action as Record<string, unknown> | null;
    if (action?.type !== "key_rotated") return { publicKey, next: e.key_id };
    if (!signed) {
      return bad(
        exp,
        e.id,
        "ROTATION_INVALID",
        "The rotation entry carries no signature of its own (the old key must sign it)",
      );
    }
    const newId = action.new_key_id;
    const encoded = action.new_public_key;
    if (typeof encoded !== "string" || !BASE64_KEY.test(encoded)) {
      return bad(
        exp,
        e.id,
        "ROTATION_INVALID",
        "The rotation entry's new_public_key is not 32 bytes of padded base64",
      );
    }
    const newKey = Uint8Array.fromBase64(encoded);
    if (typeof newId !== "string" || keyId(newKey) !== newId) {
      return bad(
        exp,
        e.id,
        "ROTATION_INVALID",
        "The rotation entry's new_key_id does not match its new_public_key",
      );
    }
    this.#announced.set(newId, newKey);
    return { publicKey, next: newId };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bad(
  seq: number,
  id: string | null,
  code: AuditIssueCode,
  reason: string,
): { issue: AuditIssue } {
  return { issue: { seq, id, code, reason } };
}
