/**
 * The audit log: one signed hash chain of entries per principal, stored in
 * the kernel {@linkcode Store}, verifiable by anyone who holds the runtime
 * public key.
 *
 * - {@linkcode AuditLog}: `append()` (before every side effect),
 *   `rotateKey()`, `head()`, `get()`, `principals()`, `query()` by session,
 *   capsule, decision and time, `verify()` and `exportJsonl()`.
 * - {@linkcode verifyChain}: walks a chain and names the first bad entry with
 *   an {@linkcode AuditIssueCode} and a reason.
 * - {@linkcode verifyExportLines} (`standalone_verify.ts`): the same checks
 *   on an export, in one file that imports nothing of Astrid
 *   (`tools/verify_audit.ts` runs it from the command line).
 * - {@linkcode AuditVerifyPool}: worker threads for signature checks.
 *
 * An entry is `{id, seq, timestamp, principal, session, capsule, call_id,
 * action, decision, proof, outcome, prev_hash, key_id}` plus `hash` (BLAKE3,
 * hex, of the RFC 8785 canonical JSON of those fields) and `signature`
 * (Ed25519, base64, over the 32 hash bytes, by the runtime key) — or
 * `signature: null` inside a group commit: entries committed together are
 * signed once, on the last one, whose signed hash links back through them.
 *
 * Security model: the chain proves integrity and authorship, not just
 * integrity. Every entry links to its predecessor's hash and is covered by a
 * signature (its own, or that of the last entry of its commit; a chain may
 * not end on an unsigned entry: `UNSIGNED`); an append is one atomic store
 * commit that compare-and-sets the chain head, so
 * concurrent appends (from any writer) can never fork a chain. A log
 * remembers each chain's head and the head key's versionstamp between
 * appends; when another writer moved the head, the commit's check fails and
 * the append is redone on the head read again. `verify()`
 * trusts only pinned keys for a chain's first entry and accepts a new key
 * only when a `key_rotated` entry signed by the current key announces it;
 * after a rotation the old key may no longer sign. It reports edited fields
 * (`HASH_MISMATCH`), deleted (`SEQ_GAP`), reordered (`REORDERED`) or
 * spliced (`PREV_HASH_MISMATCH`) entries, foreign or stale keys
 * (`KEY_UNTRUSTED`, `KEY_NOT_CURRENT`), bad signatures, and a deleted tail
 * (`TRUNCATED`: the head remembers the last seq and hash). Limits: an
 * attacker who can write the store and also rolls the head back to an
 * earlier state can hide a truncated tail — compare with an exported head
 * (`expectedHead`) kept elsewhere; the head is not signed because any head
 * such an attacker could restore was a valid head once. Append failures
 * throw `AUDIT_FAILED`, and the gate refuses the action.
 *
 * @example Append, tamper, verify
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuditLog } from "./mod.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { generateKeyPair } from "../crypto/key_pair.ts";
 * import { FakeClock, SeededRandom } from "../testing/mod.ts";
 * import type { PrincipalId } from "../core/ids.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const random = new SeededRandom(1);
 * const log = new AuditLog({ store, clock: new FakeClock(0), random, keyPair: generateKeyPair(random) });
 * const principal = "alice" as PrincipalId;
 * for (const path of ["/ws/a", "/ws/b"]) {
 *   await log.append({
 *     principal, session: null, capsule: null, call_id: null,
 *     action: { type: "file_read", path }, decision: "allowed",
 *     proof: { type: "policy" }, outcome: null,
 *   });
 * }
 * await store.delete(["audit", principal, 0]);
 * const result = await log.verify(principal);
 * assert.equal(result.firstBad?.code, "SEQ_GAP");
 * ```
 *
 * @module
 */
export { AuditLog } from "./audit_log.ts";
export type {
  AuditAppendOptions,
  AuditCallOptions,
  AuditCondition,
  AuditLogDeps,
  AuditVerifyOptions,
} from "./audit_log_options.ts";
export {
  AUDIT_DECISIONS,
  entryBody,
  entryHashInput,
  GENESIS_HASH,
  parseAuditEntry,
} from "./audit_entry.ts";
export type {
  AuditChainHead,
  AuditDecision,
  AuditEntry,
  AuditEntryBody,
  AuditRecord,
  ParseAuditEntryResult,
} from "./audit_entry.ts";
export { queryAudit, readAuditEntry } from "./query_audit.ts";
export type { AuditQuery } from "./query_audit.ts";
export { AUTO_POOL_MIN_ENTRIES, verifyChain } from "./verify_chain.ts";
export type { VerifyChainOptions } from "./verify_chain.ts";
export type {
  AuditIssue,
  AuditIssueCode,
  AuditVerifyResult,
} from "./verify_result.ts";
export { exportJsonl } from "./export_jsonl.ts";
export type { ExportJsonlOptions } from "./export_jsonl.ts";
export { AuditVerifyPool } from "./verify_pool.ts";
export type { AuditVerifyPoolOptions, SignatureCheck } from "./verify_pool.ts";
export { verifyExportLines } from "./standalone_verify.ts";
export type {
  ExportIssue,
  ExportIssueCode,
  ExportVerifyResult,
  VerifyExportOptions,
} from "./standalone_verify.ts";
