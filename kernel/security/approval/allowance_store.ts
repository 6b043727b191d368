/**
 * {@linkcode AllowanceStore}: persisted Session and Workspace allowances,
 * with atomic find-and-consume.
 *
 * Security model: allowances live under `["approval:allowances", principal,
 * id]`, so one principal's grants are never even read for another. Consuming
 * a use is one store transaction on the allowance's key that re-checks
 * validity and decrements `uses_remaining` (deleting the record at zero), so
 * concurrent callers can never use an allowance more often than
 * `max_uses`; an unlimited allowance has nothing to consume and is confirmed
 * by one read of its record. Expired and used-up records are purged when
 * seen; malformed records are never treated as grants. An in-memory copy of
 * each principal's allowances (see `_allowance_cache.ts`), kept up to date by
 * every mutation of this instance, only proposes candidates — the store
 * record decides. Each lookup first reads the principal's allowance epoch
 * (`["approval:allowance_epoch", principal]`, rewritten by every commit that
 * stores one of its allowances), so an allowance granted by another kernel on
 * the same store applies at once; lookups happen only on the approval path
 * of the gate, never on a policy-allowed call.
 *
 * @module
 */
import { throwIfAborted } from "../../core/abort.ts";
import { KernelError } from "../../core/errors.ts";
import type { PrincipalId, SessionId } from "../../core/ids.ts";
import type { Clock, Random } from "../../core/ports.ts";
import type {
  JsonValue,
  Store,
  StoreEntry,
  StoreKey,
} from "../../store/store.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import {
  type Allowance,
  allowanceApplies,
  type AllowanceScope,
  isAllowanceValid,
  parseAllowance,
} from "./allowance.ts";
import { allowanceFromAction } from "./allowance_from_action.ts";
import { AllowanceCache, type CachedAllowance } from "./_allowance_cache.ts";
import {
  confirmRead,
  confirmUnlimited,
  consumeUse,
  tryParseAllowance as tryParse,
} from "./_use_allowance.ts";

/** Store namespace of allowances: `[ns, principal, id]`. */
export const ALLOWANCE_NAMESPACE = "approval:allowances";
/**
 * Store namespace of allowance epochs: `[ns, principal]`, rewritten in the
 * commit that stores any allowance of the principal.
 */
export const ALLOWANCE_EPOCH_NAMESPACE = "approval:allowance_epoch";

/** Ports of an {@linkcode AllowanceStore}. */
export interface AllowanceStoreDeps {
  /** Where allowances are persisted. */
  readonly store: Store;
  /** Decides expiry. */
  readonly clock: Clock;
  /** Makes allowance ids. */
  readonly random: Random;
}

/** Options of {@linkcode AllowanceStore.grant}. */
export interface GrantOptions {
  /** Session or workspace. */
  readonly scope: AllowanceScope;
  /** Lifetime in ms from now; absent = until cleared or revoked. */
  readonly ttlMs?: number;
  /** Use limit; absent = unlimited. */
  readonly maxUses?: number;
  /** Cancels the write. */
  readonly signal?: AbortSignal;
}

/** Options of {@linkcode AllowanceStore.list}. */
export interface ListAllowancesOptions {
  /** Only allowances usable in this session (session-bound to it, or unbound). */
  readonly session?: SessionId;
  /** Only allowances usable in this workspace root. */
  readonly workspace?: string;
  /** Cancels the listing. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode AllowanceStore.findAndUse} used. */
export interface AllowanceUse {
  /** The allowance as it is after the use. */
  readonly allowance: Allowance;
  /** Store keys and versionstamps that must still hold when the decision lands. */
  readonly conditions: readonly {
    readonly key: StoreKey;
    readonly versionstamp: string | null;
  }[];
}

interface Scanned {
  readonly key: StoreKey;
  readonly versionstamp: string;
  readonly allowance: Allowance;
}

/**
 * Persisted allowances of all principals.
 *
 * @example Grant once, then let the same action through
 * ```ts
 * import assert from "node:assert/strict";
 * import { AllowanceStore } from "./allowance_store.ts";
 * import { KvStore } from "../../store/kv_store.ts";
 * import { openKv } from "../../host/open_kv.ts";
 * import { FakeClock } from "../../testing/fake_clock.ts";
 * import { SeededRandom } from "../../testing/seeded_random.ts";
 * import type { GateContext } from "../context.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const allowances = new AllowanceStore({ store, clock: new FakeClock(0), random: new SeededRandom(1) });
 * const ctx = {
 *   principal: "alice", session: "00000000-0000-4000-8000-000000000001",
 *   workspace: "/ws", callId: "c1",
 * } as unknown as GateContext;
 * const status = { type: "execute_command", command: "git", args: ["status"] } as const;
 * await allowances.grant(status, ctx, { scope: "session" });
 * assert.ok(await allowances.findAndConsume(status, ctx));
 * const chained = { type: "execute_command", command: "git", args: ["status;", "id"] } as const;
 * assert.equal(await allowances.findAndConsume(chained, ctx), null);
 * ```
 */
export class AllowanceStore {
  #store: Store;
  #clock: Clock;
  #random: Random;
  #cache = new AllowanceCache();

  /**
   * Creates the store view.
   *
   * @param deps The store, the clock and randomness.
   */
  constructor(deps: AllowanceStoreDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /**
   * Stores an allowance (validated first).
   *
   * @param allowance The allowance, e.g. from `allowanceFromAction()`.
   * @param options Cancellation.
   * @returns The stored allowance.
   * @throws {KernelError} `INVALID_INPUT`/`INVALID_ID` when malformed;
   * `INVALID_INPUT` when the id is taken; `ABORTED`; store errors.
   */
  async add(
    allowance: Allowance,
    options: { signal?: AbortSignal } = {},
  ): Promise<Allowance> {
    const parsed = parseAllowance(allowance);
    throwIfAborted(options.signal, "storing an allowance");
    const key = keyOf(parsed.principal, parsed.id);
    const result = await this.#store.atomic().check(key, null)
      .set(key, parsed as unknown as JsonValue)
      .set([ALLOWANCE_EPOCH_NAMESPACE, parsed.principal], parsed.id)
      .commit();
    if (!result.ok) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot store allowance '${parsed.id}' as that id already exists`,
      );
    }
    this.#cache.put(parsed, result.versionstamp);
    return parsed;
  }

  /**
   * Creates and stores the allowance for an approved action.
   *
   * @param action The approved action.
   * @param ctx The context of the approval.
   * @param options Scope, lifetime, use limit and cancellation.
   * @returns The stored allowance, or `null` when the action may not be
   * reused (see `allowancePatternFor()`).
   * @throws {RangeError} When `ttlMs` or `maxUses` is not positive.
   * @throws {KernelError} `ABORTED`; store errors.
   */
  async grant(
    action: Action,
    ctx: GateContext,
    options: GrantOptions,
  ): Promise<Allowance | null> {
    const now = this.#clock.now();
    const { ttlMs, maxUses } = options;
    if (ttlMs !== undefined && !(Number.isSafeInteger(ttlMs) && ttlMs > 0)) {
      throw new RangeError(
        `Cannot grant an allowance for ${ttlMs} ms: expected a positive integer`,
      );
    }
    const allowance = allowanceFromAction(action, {
      scope: options.scope,
      ctx,
      now,
      random: this.#random,
      ...(ttlMs === undefined ? {} : { expiresAt: now + ttlMs }),
      ...(maxUses === undefined ? {} : { maxUses }),
    });
    if (allowance === null) return null;
    return await this.add(
      allowance,
      options.signal === undefined ? {} : { signal: options.signal },
    );
  }

  /**
   * Finds a valid allowance that covers the action in this context and
   * consumes one use of it, atomically (oldest allowance first).
   *
   * @param action The action asking.
   * @param ctx The caller.
   * @param options Cancellation.
   * @returns The allowance as it is after the use (`uses_remaining`
   * decremented), or `null` when none applies.
   * @throws {KernelError} `ABORTED`; `STORE_CONFLICT`; store errors.
   */
  async findAndConsume(
    action: Action,
    ctx: GateContext,
    options: { signal?: AbortSignal } = {},
  ): Promise<Allowance | null> {
    return (await this.findAndUse(action, ctx, options))?.allowance ?? null;
  }

  /**
   * {@linkcode AllowanceStore.findAndConsume}, also returning the store
   * conditions under which the use stays valid: for an unlimited allowance,
   * its record as confirmed (a revocation or change deletes or rewrites it);
   * none for a limited one (consuming the use was the atomic decision). The
   * gate's audit commit of the decision checks them, so a revocation
   * committed by any kernel after the confirmation but before the decision
   * lands refuses the decision.
   *
   * @param action The action asking.
   * @param ctx The caller.
   * @param options Cancellation.
   * @returns The allowance after the use and its conditions, or `null`.
   * @throws {KernelError} `ABORTED`; `STORE_CONFLICT`; store errors.
   */
  async findAndUse(
    action: Action,
    ctx: GateContext,
    options: { signal?: AbortSignal } = {},
  ): Promise<AllowanceUse | null> {
    const { signal } = options;
    throwIfAborted(signal, "looking up allowances");
    const now = this.#clock.now();
    const principal = ctx.principal;
    const applies = (a: Allowance): boolean =>
      allowanceApplies(a, action, ctx, now);
    const epochKey: StoreKey = [ALLOWANCE_EPOCH_NAMESPACE, principal];
    // Loaded: the epoch and the candidates' records in one round trip.
    const loaded = this.#cache.peek(principal);
    let epoch: string | null | undefined;
    if (loaded !== undefined) {
      const candidates = await this.#candidates(principal, loaded.items, {
        action,
        ctx,
        now,
      });
      const keys = candidates.map((c) => keyOf(principal, c.allowance.id));
      const [e, ...records] = await this.#store.getMany([epochKey, ...keys]);
      epoch = e?.versionstamp ?? null;
      if (epoch === loaded.epoch) {
        return await this.#useFirst(principal, candidates, applies, {
          records,
          signal,
        });
      }
    }
    epoch ??= (await this.#store.get(epochKey))?.versionstamp ?? null;
    const known = await this.#cache.of(
      principal,
      async () => await this.#scan(principal, now, undefined),
      epoch,
    );
    throwIfAborted(signal, "looking up allowances");
    if (known.size === 0) return null;
    const candidates = await this.#candidates(principal, known, {
      action,
      ctx,
      now,
    });
    return await this.#useFirst(principal, candidates, applies, { signal });
  }

  /** The cached allowances covering the action, oldest first (purging stale ones). */
  async #candidates(
    principal: PrincipalId,
    known: ReadonlyMap<string, CachedAllowance>,
    q: { action: Action; ctx: GateContext; now: number },
  ): Promise<CachedAllowance[]> {
    const candidates: CachedAllowance[] = [];
    for (const item of [...known.values()]) {
      if (!isAllowanceValid(item.allowance, q.now)) {
        await this.#purge(keyOf(principal, item.allowance.id), item);
      } else if (allowanceApplies(item.allowance, q.action, q.ctx, q.now)) {
        candidates.push(item);
      }
    }
    return candidates.sort(byAge);
  }

  /**
   * Uses the first candidate the store confirms; `records`: the candidates'
   * records already read (else each is read when tried).
   */
  async #useFirst(
    principal: PrincipalId,
    candidates: readonly CachedAllowance[],
    applies: (a: Allowance) => boolean,
    o: {
      records?: readonly (StoreEntry | null)[];
      signal?: AbortSignal | undefined;
    },
  ): Promise<AllowanceUse | null> {
    for (const [i, item] of candidates.entries()) {
      const key = keyOf(principal, item.allowance.id);
      let outcome = item.allowance.uses_remaining !== null
        ? "limited" as const
        : o.records !== undefined
        ? confirmRead(o.records[i] ?? null, item, applies)
        : await confirmUnlimited(this.#store, key, item, applies);
      if (outcome === "limited") {
        outcome = await consumeUse(this.#store, key, applies, o.signal);
      }
      const state = outcome.state;
      if (state === null || state.allowance.principal !== principal) {
        this.#cache.remove(principal, item.allowance.id);
      } else this.#cache.put(state.allowance, state.versionstamp);
      if (outcome.used === null) continue;
      const conditions = outcome.used.uses_remaining === null && state !== null
        ? [{ key, versionstamp: state.versionstamp }]
        : [];
      return { allowance: outcome.used, conditions };
    }
    return null;
  }

  /**
   * Lists a principal's valid allowances, oldest first (purging stale ones).
   *
   * @param principal Whose allowances.
   * @param options Session and workspace filters, cancellation.
   * @returns The allowances.
   * @throws {KernelError} `ABORTED`; store errors.
   */
  async list(
    principal: PrincipalId,
    options: ListAllowancesOptions = {},
  ): Promise<Allowance[]> {
    const { session, workspace } = options;
    const all = await this.#scan(principal, this.#clock.now(), options.signal);
    return all.map((s) => s.allowance).filter((a) =>
      (session === undefined || a.session === null || a.session === session) &&
      (workspace === undefined || a.workspace_root === null ||
        a.workspace_root === workspace)
    );
  }

  /**
   * Deletes one allowance.
   *
   * @param principal Whose allowance.
   * @param id The allowance id.
   * @returns `true` when it existed.
   * @throws {KernelError} Store errors.
   */
  async revoke(principal: PrincipalId, id: string): Promise<boolean> {
    if (!id.startsWith("allowance:")) return false;
    const key = keyOf(principal, id);
    const { value } = await this.#store.transact(async (tx) => {
      const existed = (await tx.get(key)) !== null;
      if (existed) tx.delete(key);
      return existed;
    });
    this.#cache.remove(principal, id);
    return value;
  }

  /**
   * Deletes every session allowance of one session (workspace allowances
   * survive).
   *
   * @param principal Whose session.
   * @param session The session that ended.
   * @returns How many allowances were deleted.
   * @throws {KernelError} Store errors.
   */
  async clearSession(
    principal: PrincipalId,
    session: SessionId,
  ): Promise<number> {
    let cleared = 0;
    for await (
      const entry of this.#store.list([ALLOWANCE_NAMESPACE, principal])
    ) {
      const a = tryParse(entry.value);
      if (a !== null && a.scope === "session" && a.session === session) {
        await this.#store.delete(entry.key);
        this.#cache.remove(principal, a.id);
        cleared++;
      }
    }
    return cleared;
  }

  async #scan(
    principal: PrincipalId,
    now: number,
    signal: AbortSignal | undefined,
  ): Promise<Scanned[]> {
    const live: Scanned[] = [];
    const stale: Array<{ key: StoreKey; versionstamp: string }> = [];
    const prefix: StoreKey = [ALLOWANCE_NAMESPACE, principal];
    const opts = signal === undefined ? {} : { signal };
    for await (const entry of this.#store.list(prefix, opts)) {
      // silent-ok: a malformed record is skipped, never treated as a grant.
      const allowance = tryParse(entry.value);
      if (allowance === null) continue;
      const { key, versionstamp } = entry;
      if (isAllowanceValid(allowance, now)) {
        live.push({ key, versionstamp, allowance });
      } else stale.push({ key, versionstamp });
    }
    for (const { key, versionstamp } of stale) {
      // A failed check means a concurrent writer changed it: leave it be.
      const purged = await this.#store.atomic().check(key, versionstamp)
        .delete(key).commit();
      if (purged.ok) this.#cache.remove(principal, key[2] as string);
    }
    return live.sort(byAge);
  }

  /** Deletes a stale record unless it changed meanwhile. */
  async #purge(key: StoreKey, item: CachedAllowance): Promise<void> {
    // A failed check means a concurrent writer changed it: re-read next time.
    await this.#store.atomic().check(key, item.versionstamp).delete(key)
      .commit();
    this.#cache.remove(item.allowance.principal, item.allowance.id);
  }
}

function byAge(
  a: { readonly allowance: Allowance },
  b: { readonly allowance: Allowance },
): number {
  return a.allowance.created_at - b.allowance.created_at ||
    (a.allowance.id < b.allowance.id ? -1 : 1);
}

function keyOf(principal: PrincipalId, id: string): StoreKey {
  return [ALLOWANCE_NAMESPACE, principal, id];
}
