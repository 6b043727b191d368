/**
 * Private: the {@linkcode AtomicWrite} of {@linkcode KvStore}. It validates
 * every key and value as it is added and counts Deno KV's limits exactly, so
 * an oversized commit fails with a clear error before anything is sent.
 *
 * Deno KV's accounting, measured on Deno 2.9: a check costs its key size, a
 * set twice its key size plus its value size, a delete its key size; the sum
 * must stay within 819,200 bytes. The keys of sets must also total at most
 * 81,920 bytes.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { encodeValue } from "./_value_codec.ts";
import { kvError } from "./_kv_errors.ts";
import type { KvLike } from "./kv_like.ts";
import type {
  AtomicWrite,
  CommitResult,
  StoreKey,
  StoreLimits,
  StoreValue,
  Versionstamp,
} from "./store.ts";
import { formatKey, keySize, validateKey } from "./store_key.ts";

/** Max total size of the keys of the sets of one commit (Deno KV). */
export const MAX_ATOMIC_SET_KEY_BYTES = 81_920;

/** What the atomic write needs from its store. */
export interface AtomicHost {
  /** The backend's limits. */
  readonly limits: StoreLimits;
  /**
   * Returns the open database or throws `STORE_UNAVAILABLE`.
   *
   * @param what The operation, for the message.
   */
  open(what: string): KvLike;
}

type Op =
  | {
    readonly kind: "check";
    readonly key: StoreKey;
    readonly versionstamp: Versionstamp | null;
  }
  | { readonly kind: "set"; readonly key: StoreKey; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly key: StoreKey };

/** An atomic commit on a Deno KV database. */
export class KvAtomicWrite implements AtomicWrite {
  #host: AtomicHost;
  #ops: Op[] = [];
  #checks = 0;
  #mutations = 0;
  #bytes = 0;
  #setKeyBytes = 0;
  #committed = false;
  #failure: unknown = undefined;

  /** @param host The store this commit belongs to. */
  constructor(host: AtomicHost) {
    this.#host = host;
  }

  /** Adds a versionstamp check. */
  check(key: StoreKey, versionstamp: Versionstamp | null): this {
    return this.#guard(() => this.#check(key, versionstamp));
  }

  /** Adds a write. */
  set(key: StoreKey, value: StoreValue): this {
    return this.#guard(() => this.#set(key, value));
  }

  /** Adds a delete. */
  delete(key: StoreKey): this {
    return this.#guard(() => this.#delete(key));
  }

  #check(key: StoreKey, versionstamp: Versionstamp | null): void {
    const k = this.#key(key);
    if (versionstamp !== null && typeof versionstamp !== "string") {
      throw new TypeError(
        `Cannot check ${
          formatKey(k)
        }: the versionstamp must be a string or null`,
      );
    }
    this.#count(
      "check",
      this.#checks + 1,
      this.#host.limits.maxAtomicChecks,
      "checks",
    );
    this.#add(keySize(k));
    this.#checks++;
    this.#ops.push({ kind: "check", key: k, versionstamp });
  }

  #set(key: StoreKey, value: StoreValue): void {
    const k = this.#key(key);
    const bytes = encodeValue(value, {
      maxBytes: this.#host.limits.maxValueBytes,
      what: () => formatKey(k),
    });
    const size = keySize(k);
    this.#count(
      "set",
      this.#mutations + 1,
      this.#host.limits.maxAtomicMutations,
      "mutations",
    );
    if (this.#setKeyBytes + size > MAX_ATOMIC_SET_KEY_BYTES) {
      throw tooLarge(
        `Cannot add a set of ${
          formatKey(k)
        } to the atomic commit as the keys of its sets would total ` +
          `${
            this.#setKeyBytes + size
          } bytes (limit ${MAX_ATOMIC_SET_KEY_BYTES})`,
        this.#setKeyBytes + size,
        MAX_ATOMIC_SET_KEY_BYTES,
      );
    }
    this.#add(2 * size + bytes.byteLength);
    this.#setKeyBytes += size;
    this.#mutations++;
    this.#ops.push({ kind: "set", key: k, bytes });
  }

  #delete(key: StoreKey): void {
    const k = this.#key(key);
    this.#count(
      "delete",
      this.#mutations + 1,
      this.#host.limits.maxAtomicMutations,
      "mutations",
    );
    this.#add(keySize(k));
    this.#mutations++;
    this.#ops.push({ kind: "delete", key: k });
  }

  /** Runs one add; a failed add poisons the write so that it can never commit partially. */
  #guard(add: () => void): this {
    if (this.#committed) {
      throw new TypeError(
        "Cannot add to an atomic write that was already committed",
      );
    }
    try {
      add();
    } catch (err) {
      this.#failure ??= err;
      throw err;
    }
    return this;
  }

  /**
   * Commits everything added; `ok: false` when a check failed. After a failed
   * add, rejects with that add's error and writes nothing.
   */
  async commit(): Promise<CommitResult> {
    if (this.#committed) {
      throw new TypeError("Cannot commit an atomic write twice");
    }
    this.#committed = true;
    if (this.#failure !== undefined) throw this.#failure;
    const what = `commit an atomic write of ${this.#mutations} mutations`;
    const kv = this.#host.open(what);
    try {
      const op = kv.atomic();
      for (const o of this.#ops) {
        if (o.kind === "check") {
          op.check({ key: o.key, versionstamp: o.versionstamp });
        } else if (o.kind === "set") op.set(o.key, o.bytes);
        else op.delete(o.key);
      }
      const result = await op.commit();
      return result.ok
        ? { ok: true, versionstamp: result.versionstamp }
        : { ok: false };
    } catch (err) {
      throw kvError(err, what);
    }
  }

  #key(key: StoreKey): StoreKey {
    return validateKey(key, { maxKeyBytes: this.#host.limits.maxKeyBytes });
  }

  #count(op: string, next: number, limit: number, noun: string): void {
    if (next > limit) {
      throw tooLarge(
        `Cannot add a ${op} to the atomic commit as it would have ${next} ${noun} (limit ${limit})`,
        next,
        limit,
      );
    }
  }

  #add(bytes: number): void {
    const next = this.#bytes + bytes;
    const limit = this.#host.limits.maxAtomicBytes;
    if (next > limit) {
      throw tooLarge(
        `Cannot add to the atomic commit as it would total ${next} bytes (limit ${limit})`,
        next,
        limit,
      );
    }
    this.#bytes = next;
  }
}

function tooLarge(message: string, size: number, limit: number): KernelError {
  return new KernelError("STORE_ATOMIC_TOO_LARGE", message, {
    data: { size, limit },
  });
}
