/**
 * Signing and verifying the install record (`meta.json`, version 2) with the
 * runtime's Ed25519 key.
 *
 * Security model: the signature covers the canonical JSON (RFC 8785) of
 * every field but `signature` — artifact hashes, grants, `unconfined`, the
 * approval's audit entry, the key id — behind a domain-separation prefix, so
 * a record cannot be recomputed by anyone without the runtime key, and a
 * signature made for anything else (a token, an audit entry) never verifies
 * as a record. Verification accepts only the trusted key (the runtime key):
 * a record signed by another key is refused as foreign.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import { canonicalBytes, canonicalize } from "../../core/canonical_json.ts";
import { blake3Hex } from "../../crypto/blake3.ts";
import { signSync, verify } from "../../crypto/ed25519.ts";
import type { KeyPair } from "../../crypto/key_pair.ts";
import type { CapsuleMeta } from "./capsule_meta.ts";

/** The key install records must be signed with (the runtime key). */
export interface InstallTrust {
  /** The key id (`keyId(publicKey)`). */
  readonly keyId: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** A record before signing. */
export type UnsignedRecord = Omit<CapsuleMeta, "key_id" | "signature">;

const DOMAIN = new TextEncoder().encode("astrid/install-record/v2\n");

/**
 * The bytes a record's signature covers: a domain prefix, then the
 * canonical JSON of every field but `signature`.
 *
 * @param record The record (its `signature`, if any, is ignored).
 * @returns The message bytes.
 */
export function installRecordBytes(
  record: Omit<CapsuleMeta, "signature"> & { signature?: string },
): Uint8Array {
  const { signature: _ignored, ...body } = record;
  const json = canonicalBytes(body);
  const out = new Uint8Array(DOMAIN.length + json.length);
  out.set(DOMAIN);
  out.set(json, DOMAIN.length);
  return out;
}

/**
 * The BLAKE3 hash of what an install decided (artifacts, grants,
 * `unconfined`, capsule and version — not times or the approval), as shown
 * to the operator and recorded in the approval's audit entry.
 *
 * @param decided The decided fields.
 * @returns 64 lower-case hex characters.
 *
 * @example Same decision, same hash
 * ```ts
 * import assert from "node:assert/strict";
 * import { decisionHash } from "./install_record.ts";
 * const d = { capsule: "a", version: "1.0.0", artifacts: { "Capsule.toml": "0".repeat(64) }, grants: {}, unconfined: false };
 * assert.equal(decisionHash(d), decisionHash({ ...d }));
 * assert.notEqual(decisionHash(d), decisionHash({ ...d, unconfined: true }));
 * ```
 */
export function decisionHash(decided: {
  readonly capsule: string;
  readonly version: string;
  readonly artifacts: Readonly<Record<string, string>>;
  readonly grants: unknown;
  readonly unconfined: boolean;
}): string {
  return blake3Hex(canonicalize({
    capsule: decided.capsule,
    version: decided.version,
    artifacts: decided.artifacts,
    grants: decided.grants,
    unconfined: decided.unconfined,
  }));
}

/**
 * Signs a record with the runtime key.
 *
 * @param record The unsigned record.
 * @param keyPair The runtime key.
 * @returns The record with `key_id` and `signature`.
 *
 * @example Sign and verify
 * ```ts
 * import { keyPairFromSeed } from "../../crypto/key_pair.ts";
 * import { signInstallRecord, verifyInstallRecord } from "./install_record.ts";
 * const key = keyPairFromSeed(new Uint8Array(32).fill(1));
 * const meta = signInstallRecord({
 *   meta_version: 2, capsule: "a", version: "1.0.0", installed_at: 0, updated_at: 0,
 *   artifacts: {}, grants: {}, approval: { approved_at: 0, audit_entry: "e" },
 * }, key);
 * await verifyInstallRecord(meta, { keyId: key.keyId, publicKey: key.publicKey }, "meta.json");
 * ```
 */
export function signInstallRecord(
  record: UnsignedRecord,
  keyPair: KeyPair,
): CapsuleMeta {
  const withKey = { ...record, key_id: keyPair.keyId as string };
  const signature = signSync(keyPair, installRecordBytes(withKey)).toHex();
  return { ...withKey, signature };
}

/**
 * Checks that a record was signed by the trusted key.
 *
 * @param meta The parsed record.
 * @param trust The runtime key.
 * @param file The record's path, for messages.
 * @throws {KernelError} `CAPSULE_INTEGRITY` naming the file when the record
 *   was signed by another key or its signature does not verify (an edited or
 *   recomputed record).
 */
export async function verifyInstallRecord(
  meta: CapsuleMeta,
  trust: InstallTrust,
  file: string,
): Promise<void> {
  if (meta.key_id !== trust.keyId) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot load capsule '${meta.capsule}': install record ${file} was signed by a foreign key '${meta.key_id}', not this runtime's key '${trust.keyId}'; reinstall it`,
      { data: { capsule: meta.capsule, file, key_id: meta.key_id } },
    );
  }
  const signature = Uint8Array.fromHex(meta.signature);
  // WebCrypto (native), as tokens and audit signatures are verified: the
  // pure-JS verifier would build its base-point tables on every start of
  // the CLI (the daemon's flags) and the daemon (capsule boot).
  if (!(await verify(trust.publicKey, installRecordBytes(meta), signature))) {
    throw new KernelError(
      "CAPSULE_INTEGRITY",
      `Cannot load capsule '${meta.capsule}': the signature of install record ${file} does not match its contents (edited or recomputed after install); reinstall it`,
      { data: { capsule: meta.capsule, file } },
    );
  }
}
