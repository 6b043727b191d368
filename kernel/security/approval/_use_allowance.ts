/**
 * Private: using one allowance the cache proposed. The store record decides:
 * an unlimited allowance is confirmed by one read of its record (there is
 * nothing to consume, so no commit is needed); a limited one has one use
 * consumed in a store transaction on its key that re-checks it, so
 * concurrent callers can never use it more than `max_uses` times.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type {
  JsonValue,
  Store,
  StoreEntry,
  StoreKey,
} from "../../store/store.ts";
import { type Allowance, parseAllowance } from "./allowance.ts";
import type { CachedAllowance } from "./_allowance_cache.ts";

/** What using an allowance did. */
export interface UseOutcome {
  /** The allowance as it is after the use, or `null` when it did not apply. */
  readonly used: Allowance | null;
  /** The record now in the store (`null`: gone or malformed), for the cache. */
  readonly state: CachedAllowance | null;
}

/**
 * Confirms an unlimited allowance with one read of its record.
 *
 * @param store The store.
 * @param key The allowance's key.
 * @param item What the cache holds for it.
 * @param applies Whether a record covers the action now.
 * @returns The outcome, or `"limited"` when the record has a use limit
 * (then consume it with {@linkcode consumeUse}).
 */
export async function confirmUnlimited(
  store: Store,
  key: StoreKey,
  item: CachedAllowance,
  applies: (allowance: Allowance) => boolean,
): Promise<UseOutcome | "limited"> {
  return confirmRead(await store.get(key), item, applies);
}

/**
 * {@linkcode confirmUnlimited} on a record already read (in the same
 * round trip as other keys).
 *
 * @param entry The allowance's record as just read (`null`: gone).
 * @param item What the cache holds for it.
 * @param applies Whether a record covers the action now.
 * @returns The outcome, or `"limited"` (consume it with {@linkcode consumeUse}).
 */
export function confirmRead(
  entry: StoreEntry | null,
  item: CachedAllowance,
  applies: (allowance: Allowance) => boolean,
): UseOutcome | "limited" {
  if (entry === null) return { used: null, state: null };
  const current = entry.versionstamp === item.versionstamp
    ? item.allowance
    : tryParseAllowance(entry.value);
  if (current === null) return { used: null, state: null };
  const state = { allowance: current, versionstamp: entry.versionstamp };
  if (!applies(current)) return { used: null, state };
  if (current.uses_remaining !== null) return "limited";
  return { used: current, state };
}

/**
 * Consumes one use of an allowance in a store transaction (deleting the
 * record at zero uses).
 *
 * @param store The store.
 * @param key The allowance's key.
 * @param applies Whether a record covers the action now.
 * @param signal Cancels between attempts.
 * @returns The outcome.
 * @throws {KernelError} `ABORTED`; `STORE_CONFLICT`; store errors.
 */
export async function consumeUse(
  store: Store,
  key: StoreKey,
  applies: (allowance: Allowance) => boolean,
  signal: AbortSignal | undefined,
): Promise<UseOutcome> {
  const { value, versionstamp } = await store.transact(async (tx) => {
    const entry = await tx.get(key);
    const current = entry === null ? null : tryParseAllowance(entry.value);
    if (entry === null || current === null) {
      return { used: null, after: null, stamp: null };
    }
    const stamp = entry.versionstamp;
    if (!applies(current) || current.uses_remaining === null) {
      return { used: applies(current) ? current : null, after: current, stamp };
    }
    const next = { ...current, "uses_remaining": current.uses_remaining - 1 };
    if (next.uses_remaining === 0) {
      tx.delete(key);
      return { used: next, after: null, stamp: null };
    }
    tx.set(key, next as unknown as JsonValue);
    return { used: next, after: next, stamp: null };
  }, signal === undefined ? {} : { signal });
  const { used, after, stamp } = value;
  return {
    used,
    state: after === null
      ? null
      : { allowance: after, versionstamp: stamp ?? versionstamp },
  };
}

/**
 * Parses a stored allowance; a malformed record is `null` (never a grant).
 *
 * @param value The stored value.
 * @returns The allowance, or `null`.
 * @throws Anything but a parse error (`KernelError`).
 */
export function tryParseAllowance(value: unknown): Allowance | null {
  try {
    return parseAllowance(value);
  } catch (err) {
    // silent-ok: malformed records grant nothing; only parse errors are expected.
    if (KernelError.is(err)) return null;
    throw err;
  }
}
