/**
 * What chain verification reports: valid or not, how many entries passed,
 * and the first bad entry with a machine code and a human reason.
 *
 * @module
 */

/**
 * Why an entry (or the chain's end) failed verification.
 *
 * - `MALFORMED`: the stored value is not an audit entry, or sits under a key
 *   the chain never writes.
 * - `PRINCIPAL_MISMATCH`: the entry belongs to another principal's chain.
 * - `HASH_MISMATCH`: the content does not hash to `hash` (an edited field).
 * - `SEQ_GAP`: entries are missing before this position (deleted).
 * - `REORDERED`: the position holds an entry with another `seq`.
 * - `PREV_HASH_MISMATCH`: `prev_hash` is not the hash of the entry before.
 * - `KEY_UNTRUSTED`: signed by a key neither pinned nor announced by a
 *   rotation entry of this chain (a foreign key).
 * - `KEY_NOT_CURRENT`: signed by a known key that the chain had rotated away
 *   from, or switched keys without a rotation entry.
 * - `ROTATION_INVALID`: a `key_rotated` action whose key is malformed or does
 *   not match its key id.
 * - `SIGNATURE_INVALID`: the Ed25519 signature does not verify.
 * - `TRUNCATED`: the head names a later entry than the last one found.
 * - `HEAD_MISMATCH`: the head does not describe the last entry, or an entry
 *   exists beyond the head.
 * - `HEAD_MISSING`: entries exist but the chain head is gone.
 * - `UNSIGNED`: the chain ends on unsigned entries of a group commit: the
 *   signed last entry of their batch is gone.
 */
export type AuditIssueCode =
  | "MALFORMED"
  | "PRINCIPAL_MISMATCH"
  | "HASH_MISMATCH"
  | "SEQ_GAP"
  | "REORDERED"
  | "PREV_HASH_MISMATCH"
  | "KEY_UNTRUSTED"
  | "KEY_NOT_CURRENT"
  | "ROTATION_INVALID"
  | "SIGNATURE_INVALID"
  | "TRUNCATED"
  | "HEAD_MISMATCH"
  | "HEAD_MISSING"
  | "UNSIGNED";

/** The first place where a chain fails verification. */
export interface AuditIssue {
  /** The chain position (expected seq) at which verification failed. */
  readonly seq: number;
  /** Id of the entry found there, or `null` when it is missing or unreadable. */
  readonly id: string | null;
  /** Machine-readable reason. */
  readonly code: AuditIssueCode;
  /** Human-readable reason. */
  readonly reason: string;
}

/** The result of verifying a chain. */
export interface AuditVerifyResult {
  /** `true` when every entry and the head check out. */
  readonly valid: boolean;
  /** Entries that passed every check (all of them when valid). */
  readonly entriesVerified: number;
  /** The first problem; absent when valid. */
  readonly firstBad?: AuditIssue;
}
