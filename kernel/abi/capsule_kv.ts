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
 * Speed: the namespace remembers the usage and the keys it last read or
 * wrote with their versionstamps, so a write usually commits without
 * reading first — a commit that *checks* both versionstamps, which is the
 * same guarantee as the transaction's (a key or the usage changed by anyone
 * since fails the check, and the write then runs as the transaction). A
 * quota refusal is only ever decided on values read in the transaction.
 *
 * @module
 */
import { LruMap } from "../core/lru_map.ts";
import { KernelError } from "../core/errors.ts";
import type {
  JsonValue,
  Store,
  StoreEntry,
  StoreKey,
  StoreValue,
} from "../store/store.ts";
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
  const seen = new Seen();
  /** The usage after the change; `null`: over the quota. */
  function nextUsage(
    u: Usage,
    k: string,
    old: Known,
    after: number | null,
  ): Usage | null {
    const before = old.size(k);
    // Clamped: keys written before the quota existed are not counted yet.
    const next: Usage = {
      keys: Math.max(
        0,
        u.keys + (after === null ? 0 : 1) - (before === null ? 0 : 1),
      ),
      bytes: Math.max(0, u.bytes + (after ?? 0) - (before ?? 0)),
    };
    return after !== null &&
        (next.keys > quota.keys || next.bytes > quota.bytes)
      ? null
      : next;
  }
  /** Commits on remembered versionstamps; `false`: run the transaction. */
  async function fast(
    k: string,
    value: JsonValue | undefined,
    after: number | null,
  ): Promise<boolean> {
    const old = seen.key(k);
    const u = seen.usage;
    if (old === undefined || u === undefined) return false;
    const next = nextUsage(u.usage, k, old, after);
    if (next === null) return false; // refused only on values just read
    const op = store.atomic()
      .check(keyOf(k), old.versionstamp)
      .check(usageKey, u.versionstamp);
    if (value === undefined) op.delete(keyOf(k));
    else op.set(keyOf(k), value);
    op.set(usageKey, next as unknown as JsonValue);
    const r = await op.commit();
    if (!r.ok) {
      seen.forget(k);
      return false;
    }
    seen.wrote(k, value, after, next, r.versionstamp);
    return true;
  }
  async function change(k: string, value: JsonValue | undefined) {
    const after = value === undefined ? null : sizeOf(k, value);
    if (await fast(k, value, after)) return;
    const { value: next, versionstamp } = await store.transact(async (tx) => {
      const [old = null, usage = null] = await tx.getMany([keyOf(k), usageKey]);
      const u: Usage = (usage?.value as Usage | undefined) ??
        { keys: 0, bytes: 0 };
      const next = nextUsage(u, k, new Known(old), after);
      if (next === null) {
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
      return next;
    });
    seen.wrote(k, value, after, next, versionstamp);
  }
  return {
    async get(k) {
      const entry = await store.get(keyOf(k));
      seen.read(k, entry);
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

/** Keys remembered per namespace at most (the least recently used go). */
const SEEN_KEYS = 64;

/** A key's value as last read or written, and its versionstamp. */
class Known {
  readonly versionstamp: string | null;
  #entry: { readonly value: StoreValue } | null;
  #size: number | null | undefined;

  /**
   * @param entry The entry read (`null`: absent).
   * @param size Its counted size when known (else measured on first use).
   */
  constructor(
    entry: { readonly value: StoreValue; readonly versionstamp: string } | null,
    size?: number | null,
  ) {
    this.versionstamp = entry?.versionstamp ?? null;
    this.#entry = entry;
    this.#size = size;
  }

  /** Its counted size (`null`: absent, or bytes not written by a capsule). */
  size(k: string): number | null {
    if (this.#size === undefined) {
      const e = this.#entry;
      this.#size = e === null || e.value instanceof Uint8Array
        ? null
        : sizeOf(k, e.value);
    }
    this.#entry = null;
    return this.#size;
  }
}

/** What a namespace last read or wrote (see the module doc: speed). */
class Seen {
  usage: { readonly usage: Usage; readonly versionstamp: string } | undefined;
  #keys = new LruMap<Known>(SEEN_KEYS);

  key(k: string): Known | undefined {
    return this.#keys.get(k);
  }

  read(k: string, entry: StoreEntry | null): void {
    this.#remember(k, new Known(entry));
  }

  wrote(
    k: string,
    value: JsonValue | undefined,
    size: number | null,
    usage: Usage,
    versionstamp: string,
  ): void {
    this.usage = { usage, versionstamp };
    // A deleted key reads as absent: no versionstamp.
    this.#remember(
      k,
      value === undefined
        ? new Known(null, null)
        : new Known({ value: null, versionstamp }, size),
    );
  }

  forget(k: string): void {
    this.#keys.delete(k);
    this.usage = undefined;
  }

  #remember(k: string, known: Known): void {
    this.#keys.set(k, known);
  }
}
