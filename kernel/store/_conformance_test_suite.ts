/**
 * Private: the one Store conformance suite. Every backend runs the same
 * cases — Deno KV in `kv_store_test.ts`, `kv_store_atomic_test.ts` and
 * `transact_test.ts`; PostgreSQL in `tests/pg_store_test.ts` — so the port's
 * promises (versionstamps, checked atomic commits, transactions, key order,
 * limits and error codes) are asserted once and hold for all of them.
 *
 * @module
 */
import type { Store } from "./store.ts";
import { ATOMIC_CASES } from "./_conformance_atomic_cases.ts";
import { STORE_CASES } from "./_conformance_store_cases.ts";
import { TRANSACT_CASES } from "./_conformance_transact_cases.ts";

/** One backend-independent case. */
export interface ConformanceCase {
  /** States the behaviour. */
  readonly name: string;
  /**
   * Runs the case.
   *
   * @param open Returns a fresh, empty store; the case closes it.
   */
  run(open: () => Promise<Store>): Promise<void>;
}

export { ATOMIC_CASES, STORE_CASES, TRANSACT_CASES };

/** Every case, in a stable order. */
export const STORE_CONFORMANCE: readonly ConformanceCase[] = [
  ...STORE_CASES,
  ...ATOMIC_CASES,
  ...TRANSACT_CASES,
];
