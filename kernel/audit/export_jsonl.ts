/**
 * {@linkcode exportJsonl}: a chain as JSON lines that a third party can
 * verify with `standalone_verify.ts` and the runtime public key alone.
 *
 * @module
 */
import { canonicalize } from "../core/canonical_json.ts";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import type { Store } from "../store/store.ts";
import { decodeEntry } from "./_entry_codec.ts";
import { ENTRY_NS } from "./_keys.ts";

/** Options of {@linkcode exportJsonl}. */
export interface ExportJsonlOptions {
  /** Cancels the export (`ABORTED` from the iterator). */
  readonly signal?: AbortSignal;
}

/**
 * Streams a chain in seq order, one line per entry: the RFC 8785 canonical
 * JSON of the full stored entry (including `hash` and `signature`), without a
 * trailing newline. Entries are exported as stored, unverified: a tampered
 * entry stays tampered, so the verifier of the export finds it.
 *
 * @param store The audit store.
 * @param principal The chain.
 * @param options Cancellation.
 * @returns The lines.
 * @throws {KernelError} While iterating: `ABORTED`, `STORE_UNAVAILABLE`.
 *
 * @example Write an export file's text
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportJsonl } from "./export_jsonl.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import type { PrincipalId } from "../core/ids.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * let text = "";
 * for await (const line of exportJsonl(store, "alice" as PrincipalId)) text += line + "\n";
 * assert.equal(text, "");
 * ```
 */
export async function* exportJsonl(
  store: Store,
  principal: PrincipalId,
  options: ExportJsonlOptions = {},
): AsyncGenerator<string> {
  const it = store.list([ENTRY_NS, principal], {
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const stored of it) {
    const decoded = decodeEntry(stored.value);
    if (!decoded.ok) {
      throw new KernelError(
        "AUDIT_CHAIN_BROKEN",
        `Cannot export audit entry ${
          String(stored.key[2])
        } of '${principal}': ${decoded.issue}`,
        { data: { principal, seq: stored.key[2] } },
      );
    }
    yield canonicalize(decoded.value.entry);
  }
}
