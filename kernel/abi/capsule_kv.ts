/**
 * A capsule's own KV namespace, `{principal}:capsule:{name}`, with a quota:
 * a capsule can only ever reach its own namespace (the namespace is a
 * separate key part, so no key can climb out of it), and it can keep at most
 * `quota.keys` keys and `quota.bytes` bytes (key + JSON value, UTF-8) there.
 *
 * Security model: usage is kept in a separate key (`{ns}:usage`), updated in
 * the same optimistic transaction as the write it accounts for, so
 * concurrent writes can never push a namespace past its quota; a write that
 * would is refused with `ABI_QUOTA_EXCEEDED` and changes nothing.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { JsonValue, Store, StoreKey } from "../store/store.ts";
import type { KvQuota } from "./ports.ts";

/**
 * The store namespace of a capsule for a principal.
 *
 * @param caller The capsule and its principal.
 * @returns `{principal}:capsule:{name}`.
 */
export function kvNamespaceOf(
  caller: { readonly principal: string; readonly capsule: string },
): string {
  return `${caller.principal}:capsule:${caller.capsule}`;
}

/** The KV operations of one capsule namespace. */
export interface CapsuleKv {
  get(key: string): Promise<JsonValue>;
  set(key: string, value: JsonValue): Promise<void>;
  delete(key: string): Promise<void>;
  listKeys(prefix: string, options: { signal: AbortSignal }): Promise<string[]>;
}

interface Usage {
  keys: number;
  bytes: number;
}

const UTF8 = new TextEncoder();

function sizeOf(key: string, value: JsonValue): number {
  return UTF8.encode(key).length + UTF8.encode(JSON.stringify(value)).length;
}

/**
 * Binds the KV operations to one namespace and quota.
 *
 * @param store The kernel store.
 * @param namespace `{principal}:capsule:{name}`.
 * @param quota Most keys and bytes.
 * @returns The namespace's operations.
 *
 * @example Refuse the key past the quota
 * ```ts
 * import assert from "node:assert/strict";
 * import { KvStore } from "../store/kv_store.ts";
 * import { openKv } from "../host/open_kv.ts";
 * import { capsuleKv } from "./capsule_kv.ts";
 * await using store = new KvStore(await openKv(":memory:"));
 * const kv = capsuleKv(store, "default:capsule:a", { keys: 1, bytes: 1024 });
 * await kv.set("one", 1);
 * await assert.rejects(kv.set("two", 2), { code: "ABI_QUOTA_EXCEEDED" });
 * await kv.set("one", 11); // replacing a key is fine
 * ```
 */
export function capsuleKv(
  store: Store,
  namespace: string,
  quota: KvQuota,
): CapsuleKv {
  const usageKey: StoreKey = [`${namespace}:usage`, "total"];
  const keyOf = (k: string): StoreKey => [namespace, k];
  async function change(k: string, value: JsonValue | undefined) {
    await store.transact(async (tx) => {
      const [old = null, usage = null] = await tx.getMany([keyOf(k), usageKey]);
      const u: Usage = (usage?.value as Usage | undefined) ??
        { keys: 0, bytes: 0 };
      const before = old === null || old.value instanceof Uint8Array
        ? null
        : sizeOf(k, old.value);
      const after = value === undefined ? null : sizeOf(k, value);
      // Clamped: keys written before the quota existed are not counted yet.
      const next: Usage = {
        keys: Math.max(
          0,
          u.keys + (after === null ? 0 : 1) - (before === null ? 0 : 1),
        ),
        bytes: Math.max(0, u.bytes + (after ?? 0) - (before ?? 0)),
      };
      if (
        after !== null &&
        (next.keys > quota.keys || next.bytes > quota.bytes)
      ) {
        throw new KernelError(
          "ABI_QUOTA_EXCEEDED",
          `Cannot store key '${
            k.slice(0, 64)
          }' as the capsule's KV quota (${quota.keys} keys, ${quota.bytes} bytes) would be exceeded`,
        );
      }
      if (value === undefined) tx.delete(keyOf(k));
      else tx.set(keyOf(k), value);
      tx.set(usageKey, next as unknown as JsonValue);
    });
  }
  return {
    async get(k) {
      const entry = await store.get(keyOf(k));
      return entry === null || entry.value instanceof Uint8Array
        ? null
        : entry.value;
    },
    set: (k, value) => change(k, value),
    delete: (k) => change(k, undefined),
    async listKeys(prefix, options) {
      const keys: string[] = [];
      for await (const e of store.list([namespace], options)) {
        const k = e.key[1];
        if (typeof k === "string" && k.startsWith(prefix)) keys.push(k);
        if (keys.length >= 10_000) break;
      }
      return keys;
    },
  };
}
