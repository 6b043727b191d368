/**
 * {@linkcode AuditLog}: signed hash chains of audit entries, one per
 * principal, in a {@linkcode Store}.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import type { Clock, Logger, Random } from "../core/ports.ts";
import { type Blake3Hasher, createBlake3Hasher } from "../crypto/blake3.ts";
import type { KeyPair } from "../crypto/key_pair.ts";
import type { Store } from "../store/store.ts";
import { appendEntries, type AppendResult } from "./_append.ts";
import { ChainQueue } from "./_chain_queue.ts";
import { entryIdFor } from "./_entry_id.ts";
import type { ChainState } from "./_chain_state.ts";
import { HEAD_NS, headKey, readHead } from "./_keys.ts";
import {
  AUDIT_DECISIONS,
  type AuditChainHead,
  type AuditEntry,
  type AuditRecord,
} from "./audit_entry.ts";
import { exportJsonl } from "./export_jsonl.ts";
import { type AuditQuery, queryAudit, readAuditEntry } from "./query_audit.ts";
import { verifyChain } from "./verify_chain.ts";
import type { AuditVerifyResult } from "./verify_result.ts";
import type { AuditVerifyPool } from "./verify_pool.ts";
import type {
  AuditAppendOptions,
  AuditCallOptions,
  AuditCondition,
  AuditLogDeps,
  AuditVerifyOptions,
} from "./audit_log_options.ts";

/**
 * Appends to one chain that may share a commit (and one signature). A
 * commit is also bounded by bytes (`_append.ts`, under Deno KV's 800 KiB per
 * atomic). Mutations: an entry writes at most 6 keys (its value, up to
 * three grouped index keys when its session, capsule and decision are all
 * new to the commit, a late-time key, a time mark), so 128 entries, a
 * rotation entry and the head stay under Deno KV's 1,000 per atomic.
 */
const MAX_GROUP_COMMIT = 128;
/** An append waiting in its chain's queue. */
interface Queued {
  readonly record: AuditRecord;
  readonly conditions: readonly AuditCondition[] | undefined;
}

/** How long a lazy append waits for an eager one before it commits alone. */
const DEFAULT_LINGER_MS = 5;

/**
 * The audit log. `append()` adds a signed entry to the principal's chain as
 * one commit that compare-and-sets the chain head (remembered between
 * appends, read again when another writer moved it), so concurrent appends
 * (from any writer of the store) form one linear chain. `verify()` walks a
 * chain and names the first bad entry.
 *
 * @example Append, read back and verify
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuditLog } from "./audit_log.ts";
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
 * const entry = await log.append({
 *   principal, session: null, capsule: null, call_id: null,
 *   action: { type: "file_read", path: "/ws/a" }, decision: "allowed",
 *   proof: { type: "policy" }, outcome: null,
 * });
 * assert.equal(entry.seq, 0);
 * assert.deepEqual(await log.verify(principal), { valid: true, entriesVerified: 1 });
 * ```
 */
export class AuditLog {
  #store: Store;
  #clock: Clock;
  #random: Random;
  #current: KeyPair;
  #signers = new Map<string, KeyPair>();
  #trusted: Uint8Array[];
  #logger: Logger | undefined;
  #pool: AuditVerifyPool | undefined;
  #hasher: Promise<Blake3Hasher> | undefined;
  /** The hasher once started (no promise to await on each append). */
  #hasherReady: Blake3Hasher | undefined;
  /** Per chain: its head as of this log's last read or commit. */
  #chains = new Map<string, ChainState>();
  #queue: ChainQueue<Queued, AuditEntry>;

  /**
   * Opens the log on a store; nothing is read until the first call.
   *
   * @param deps Store, clock, randomness and the runtime key.
   */
  constructor(deps: AuditLogDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#current = deps.keyPair;
    this.#signers.set(deps.keyPair.keyId, deps.keyPair);
    this.#trusted = [...(deps.trustedPublicKeys ?? []), deps.keyPair.publicKey];
    this.#logger = deps.logger;
    this.#pool = deps.verifyPool;
    const linger = deps.lingerMs ?? DEFAULT_LINGER_MS;
    this.#queue = new ChainQueue<Queued, AuditEntry>(
      async (principal, items) =>
        (await this.#write(principal as PrincipalId, items)).results,
      MAX_GROUP_COMMIT,
      (signal) => this.#clock.sleep(linger, { signal }),
      deps.gatherBursts === true,
    );
  }

  /** Key id of the key that signs new entries. */
  get keyId(): string {
    return this.#current.keyId;
  }

  /**
   * The keys {@linkcode AuditLog.verify} pins by default: the earlier keys of
   * the deps, every key this log has signed with, and the current key.
   *
   * @returns Copies of the public keys.
   */
  trustedPublicKeys(): Uint8Array[] {
    return this.#trusted.map((k) => k.slice());
  }

  /**
   * Appends an entry to `record.principal`'s chain. Call it before the side
   * effect: when it throws, the action must not happen. It resolves only
   * once the commit holding the entry is done (durable).
   *
   * Entries that become ready together share one commit and one signature
   * (group commit). With `lazy: true` (for records nothing waits on, such
   * as an outcome) the entry starts no commit of its own: it joins the next
   * append of its chain, or commits alone within 1–2 × `lingerMs` or on
   * {@linkcode AuditLog.flush}.
   *
   * @param record The entry content.
   * @param options Cancellation; `lazy`; `conditions` (store keys that must
   *   still hold when the entry lands, else `STORE_CONFLICT`).
   * @returns The stored entry.
   * @throws {KernelError} `AUDIT_FAILED` when the entry could not be written
   * (closed store, value too large, conflicts, unserialisable field);
   * `STORE_CONFLICT` when a condition no longer held; `ABORTED`.
   * @throws {TypeError} When `decision` is not an {@linkcode AUDIT_DECISIONS} value.
   */
  async append(
    record: AuditRecord,
    options: AuditAppendOptions = {},
  ): Promise<AuditEntry> {
    if (!AUDIT_DECISIONS.includes(record.decision)) {
      throw new TypeError(
        `Cannot append an audit entry with decision ${
          JSON.stringify(record.decision)
        }: expected allowed, denied, deferred or info`,
      );
    }
    throwIfAborted(options.signal, `an audit append to '${record.principal}'`);
    return await this.#queue.push(
      record.principal,
      { record, conditions: options.conditions },
      options.signal,
      options.lazy === true,
    );
  }

  /**
   * Commits the appends queued so far now (lazy ones included) and waits
   * for them. Reads through this log (`head`, `get`, `query`, `verify`,
   * export) flush their chain first, so they see every append made before
   * them.
   *
   * @param principal Only this chain (default: every chain).
   * @returns When those appends are settled (written or failed).
   */
  async flush(principal?: PrincipalId): Promise<void> {
    await this.#queue.flush(principal);
  }

  /**
   * Switches to a new runtime key. Every chain gets a `key_rotated` entry
   * (action `{type, new_key_id, new_public_key}`) signed by its old key;
   * later entries are signed by the new key. A chain this call misses (one
   * created concurrently) is rotated by its next append.
   *
   * @param keyPair The new key.
   * @param options Cancellation.
   * @returns The rotation entries written.
   * @throws {KernelError} `AUDIT_FAILED`, `ABORTED`.
   */
  async rotateKey(
    keyPair: KeyPair,
    options: AuditCallOptions = {},
  ): Promise<AuditEntry[]> {
    const keyId = keyPair.keyId;
    if (keyId === this.#current.keyId) return [];
    this.#signers.set(keyId, keyPair);
    this.#trusted.push(keyPair.publicKey);
    this.#current = keyPair;
    const out: AuditEntry[] = [];
    await this.flush();
    for (const principal of await this.principals(options)) {
      throwIfAborted(options.signal, "an audit key rotation");
      const { rotation } = await this.#write(principal, []);
      if (rotation !== null) out.push(rotation);
    }
    const chains = out.length;
    this.#logger?.log("info", "Rotated the audit key", { keyId, chains });
    return out;
  }

  /**
   * The head of a chain.
   *
   * @param principal The chain.
   * @returns The head, or `null` for an empty chain.
   * @throws {KernelError} `STORE_UNAVAILABLE`; `AUDIT_CHAIN_BROKEN` when the
   *   head is unreadable.
   */
  async head(principal: PrincipalId): Promise<AuditChainHead | null> {
    await this.flush(principal);
    return readHead(
      principal,
      (await this.#store.get(headKey(principal)))?.value,
    );
  }

  /**
   * Reads one entry by seq or id, as stored (use `verify()` to trust it).
   *
   * @param principal The chain.
   * @param at The seq (number) or the entry id (string).
   * @returns The entry, or `null`.
   * @throws {KernelError} `AUDIT_CHAIN_BROKEN` when the stored value is not
   * an entry; `STORE_UNAVAILABLE`.
   */
  async get(
    principal: PrincipalId,
    at: number | string,
  ): Promise<AuditEntry | null> {
    await this.flush(principal);
    return await readAuditEntry(this.#store, principal, at);
  }

  /**
   * Every principal that has a chain, in key order.
   *
   * @param options Cancellation.
   * @returns The principals.
   * @throws {KernelError} `ABORTED`, `STORE_UNAVAILABLE`.
   */
  async principals(options: AuditCallOptions = {}): Promise<PrincipalId[]> {
    const out: PrincipalId[] = [];
    const it = this.#store.list(
      [HEAD_NS],
      options.signal ? { signal: options.signal } : {},
    );
    for await (const e of it) out.push(e.key[1] as PrincipalId);
    return out;
  }

  /**
   * Finds entries by session, capsule, decision and time (see {@linkcode queryAudit}).
   *
   * @param query What to find.
   * @returns The matching entries, in seq order (or reversed).
   * @throws {KernelError} `ABORTED`, `STORE_UNAVAILABLE`, `AUDIT_CHAIN_BROKEN`.
   */
  async query(query: AuditQuery): Promise<AuditEntry[]> {
    await this.flush(query.principal);
    return await queryAudit(this.#store, query);
  }

  /**
   * Verifies a chain (see {@linkcode verifyChain}); pins
   * {@linkcode AuditLog.trustedPublicKeys} unless `pinnedKeys` is given.
   *
   * @param principal The chain.
   * @param options Pinned keys, cancellation, progress.
   * @returns Whether the chain is intact, and its first bad entry if not.
   * @throws {KernelError} `ABORTED`, `STORE_UNAVAILABLE`.
   */
  async verify(
    principal: PrincipalId,
    options: AuditVerifyOptions = {},
  ): Promise<AuditVerifyResult> {
    await this.flush(principal);
    return await verifyChain(this.#store, principal, {
      ...options,
      pinnedKeys: options.pinnedKeys ?? this.trustedPublicKeys(),
      pool: options.pool ?? this.#pool ?? "auto",
      hasher: options.hasher ?? await this.#getHasher(),
    });
  }

  /**
   * Exports a chain as JSON lines (see {@linkcode exportJsonl}).
   *
   * @param principal The chain.
   * @param options Cancellation.
   * @returns One canonical JSON text per entry, without newlines.
   * @throws {KernelError} While iterating: `ABORTED`, `STORE_UNAVAILABLE`.
   */
  async *exportJsonl(
    principal: PrincipalId,
    options: AuditCallOptions = {},
  ): AsyncIterable<string> {
    await this.flush(principal);
    yield* exportJsonl(this.#store, principal, options);
  }

  async #write(
    principal: PrincipalId,
    items: readonly Queued[],
  ): Promise<AppendResult> {
    const hasher = this.#hasherReady ??
      await this.#getHasher().catch((cause) => {
        throw new KernelError(
          "AUDIT_FAILED",
          "Cannot start the audit hasher",
          { cause },
        );
      });
    try {
      const result = await appendEntries(this.#store, {
        principal,
        records: items.map((i) => i.record),
        conditions: items.map((i) => i.conditions),
        current: () => this.#current,
        signers: this.#signers,
        hasher,
        now: () => this.#clock.now(),
        newId: (seq) => entryIdFor(seq, this.#random),
        maxValueBytes: this.#store.limits.maxValueBytes,
        state: this.#chains.get(principal),
      });
      this.#chains.set(principal, result.state);
      return result;
    } catch (err) {
      // Whether a failed commit landed is unknown: read the head next time.
      this.#chains.delete(principal);
      throw err;
    }
  }

  #getHasher(): Promise<Blake3Hasher> {
    if (this.#hasher === undefined) {
      const pending = createBlake3Hasher();
      // silent-ok: only resets the cache; the caller still gets the rejection.
      pending.then((h) => {
        if (this.#hasher === pending) this.#hasherReady = h;
      }, () => {
        if (this.#hasher === pending) this.#hasher = undefined;
      });
      this.#hasher = pending;
    }
    return this.#hasher;
  }
}
