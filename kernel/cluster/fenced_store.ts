/**
 * A session's view of the shared store, fenced by its lease: every commit
 * (set, delete, atomic, transaction) also checks that the session's owner
 * key still has the versionstamp it had when this node took the session
 * (`session_leases.ts`). Once another node took the session over, each
 * write of this node's runtime for it fails with `SESSION_LEASE_LOST` and
 * changes nothing — the fencing that makes a takeover safe even when the old
 * node is only slow, not dead.
 *
 * Security model: the check rides in the same atomic commit as the write, so
 * there is no window between "still mine" and "written". Reads pass through
 * unfenced (a stale read cannot change state). The fence does not consult
 * any clock: a write after this node's lease ran out by its own clock but
 * before anyone took the session is still the only writer's, and succeeds.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type {
  AtomicWrite,
  CommitResult,
  ListOptions,
  Store,
  StoreEntry,
  StoreKey,
  StoreLimits,
  StoreValue,
  Transaction,
  TransactOptions,
  TransactResult,
  Versionstamp,
} from "../store/store.ts";
import type { HeldLease } from "./session_leases.ts";

function lost(lease: HeldLease): KernelError {
  return new KernelError(
    "SESSION_LEASE_LOST",
    `Cannot write for session ${lease.session}: this node no longer holds its lease (another node took it over, or it expired)`,
  );
}

class FencedAtomic implements AtomicWrite {
  readonly #inner: AtomicWrite;
  readonly #store: Store;
  readonly #lease: HeldLease;

  constructor(store: Store, lease: HeldLease) {
    this.#store = store;
    this.#lease = lease;
    this.#inner = store.atomic();
  }

  check(key: StoreKey, versionstamp: Versionstamp | null): this {
    this.#inner.check(key, versionstamp);
    return this;
  }

  set(key: StoreKey, value: StoreValue): this {
    this.#inner.set(key, value);
    return this;
  }

  delete(key: StoreKey): this {
    this.#inner.delete(key);
    return this;
  }

  async commit(): Promise<CommitResult> {
    const r = await this.#inner.check(this.#lease.ownerKey, this.#lease.fence)
      .commit();
    if (r.ok) return r;
    const owner = await this.#store.get(this.#lease.ownerKey);
    if (owner?.versionstamp !== this.#lease.fence) throw lost(this.#lease);
    return r;
  }
}

/**
 * Wraps the shared store for one session's runtime.
 *
 * @param store The shared store.
 * @param lease The session's lease held by this node.
 * @returns The fenced store (closing it does not close `store`).
 */
export function fencedStore(store: Store, lease: HeldLease): Store {
  const fenced: Store = {
    get limits(): StoreLimits {
      return {
        ...store.limits,
        maxAtomicChecks: store.limits.maxAtomicChecks - 1,
      };
    },
    get: (key: StoreKey): Promise<StoreEntry | null> => store.get(key),
    getMany: (keys: readonly StoreKey[]) => store.getMany(keys),
    list: (prefix: StoreKey, options?: ListOptions) =>
      store.list(prefix, options),
    atomic: (): AtomicWrite => new FencedAtomic(store, lease),
    async set(key: StoreKey, value: StoreValue): Promise<Versionstamp> {
      const r = await fenced.atomic().set(key, value).commit();
      if (!r.ok) throw lost(lease);
      return r.versionstamp;
    },
    async delete(key: StoreKey): Promise<void> {
      const r = await fenced.atomic().delete(key).commit();
      if (!r.ok) throw lost(lease);
    },
    transact<T>(
      fn: (tx: Transaction) => T | Promise<T>,
      options?: TransactOptions,
    ): Promise<TransactResult<T>> {
      // Reading the owner key makes the commit check it; a lost lease
      // aborts the attempt instead of retrying.
      return store.transact(async (tx) => {
        const owner = await tx.get(lease.ownerKey);
        if (owner?.versionstamp !== lease.fence) throw lost(lease);
        return await fn(tx);
      }, options);
    },
    close: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return fenced;
}
