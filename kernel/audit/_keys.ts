/**
 * Private: the store layout of the audit chains.
 *
 * - `["audit", principal, seq]` → the entry (JSON);
 * - `["audit_head", principal]` → {@linkcode AuditChainHead};
 * - `["audit_id", principal, id]` → seq;
 * - `["audit_idx", principal, "session" | "capsule" | "decision", value, seq]`
 *   and `["audit_idx", principal, "time", timestamp, seq]` → `null`.
 *
 * Numeric parts sort numerically, so listing `["audit", principal]` walks the
 * chain in seq order.
 *
 * @module
 */
import type { StoreKey } from "../store/store.ts";
import type { AuditChainHead, AuditEntry } from "./audit_entry.ts";

/** Namespace of the entries. */
export const ENTRY_NS = "audit";
/** Namespace of the chain heads. */
export const HEAD_NS = "audit_head";
/** Namespace of the id → seq index. */
export const ID_NS = "audit_id";
/** Namespace of the secondary indexes. */
export const INDEX_NS = "audit_idx";

/** Index kinds that take an exact value. */
export type IndexKind = "session" | "capsule" | "decision";

/**
 * The key of one entry.
 *
 * @param principal The chain.
 * @param seq The position.
 * @returns The store key.
 */
export function entryKey(principal: string, seq: number): StoreKey {
  return [ENTRY_NS, principal, seq];
}

/**
 * The key of a chain head.
 *
 * @param principal The chain.
 * @returns The store key.
 */
export function headKey(principal: string): StoreKey {
  return [HEAD_NS, principal];
}

/**
 * The key of the id index.
 *
 * @param principal The chain.
 * @param id The entry id.
 * @returns The store key.
 */
export function idKey(principal: string, id: string): StoreKey {
  return [ID_NS, principal, id];
}

/**
 * Every index key an entry gets.
 *
 * @param e The entry.
 * @returns Its index keys.
 */
export function indexKeys(e: AuditEntry): StoreKey[] {
  const p = e.principal;
  const keys: StoreKey[] = [
    [INDEX_NS, p, "decision", e.decision, e.seq],
    [INDEX_NS, p, "time", e.timestamp, e.seq],
  ];
  if (e.session !== null) keys.push([INDEX_NS, p, "session", e.session, e.seq]);
  if (e.capsule !== null) keys.push([INDEX_NS, p, "capsule", e.capsule, e.seq]);
  return keys;
}

/**
 * Reads a head value, or `null` when it is not one.
 *
 * @param value A stored value.
 * @returns The head, or `null`.
 */
export function asHead(value: unknown): AuditChainHead | null {
  if (typeof value !== "object" || value === null) return null;
  const h = value as Record<string, unknown>;
  return typeof h.seq === "number" && typeof h.hash === "string" &&
      typeof h.id === "string" && typeof h.key_id === "string"
    ? (h as unknown as AuditChainHead)
    : null;
}
