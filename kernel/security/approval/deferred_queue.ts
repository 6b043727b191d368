/**
 * {@linkcode DeferredQueue}: approvals no human could answer, persisted for
 * later resolution (`astrid approvals list|resolve`), expiring after 24 h.
 *
 * Security model: an item records the action and the context it was asked
 * in; resolving it means taking it out (atomically: of two concurrent takes
 * exactly one wins) and running the whole gate again with that action and
 * context plus the human's answer, so a stale item can never authorise more
 * than a fresh request would. Expired items cannot be taken. `get` and
 * `take` accept a principal to refuse another principal's items; the queue
 * itself trusts its store.
 *
 * @module
 */
import { throwIfAborted } from "../../core/abort.ts";
import { KernelError } from "../../core/errors.ts";
import {
  parseCapsuleId,
  parsePrincipalId,
  parseSessionId,
  type PrincipalId,
  uuidV4,
} from "../../core/ids.ts";
import type { Clock, Random } from "../../core/ports.ts";
import type { JsonValue, Store, StoreKey } from "../../store/store.ts";
import type { Action, RiskLevel } from "../action.ts";
import type { GateContext } from "../context.ts";

/** Store namespace of deferred resolutions: `[ns, id]`. */
export const DEFERRED_NAMESPACE = "approval:deferred";

/** How long a deferred resolution may wait: 24 hours. */
export const DEFERRED_TTL_MS: number = 24 * 60 * 60 * 1000;

const ID =
  /^resolution:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RISKS: readonly RiskLevel[] = ["low", "medium", "high", "critical"];

/** What is queued. */
export interface DeferRequest {
  /** The action that needed approval. */
  readonly action: Action;
  /** The context it was asked in. */
  readonly ctx: GateContext;
  /** Its human summary. */
  readonly summary: string;
  /** Its risk. */
  readonly risk: RiskLevel;
  /** Why no human answered ("approval request timed out", …). */
  readonly reason: string;
}

/** A queued, persisted approval awaiting a human. */
export interface DeferredResolution extends DeferRequest {
  /** `resolution:<uuid>`. */
  readonly id: string;
  /** When it was queued, ms since the epoch. */
  readonly "queued_at": number;
  /** When it expires (exclusive): `queued_at` + 24 h. */
  readonly "expires_at": number;
}

/** Ports of a {@linkcode DeferredQueue}. */
export interface DeferredQueueDeps {
  /** Where items are persisted. */
  readonly store: Store;
  /** Stamps and expires items. */
  readonly clock: Clock;
  /** Makes ids. */
  readonly random: Random;
}

/** Options of lookups. */
export interface DeferredLookupOptions {
  /** Refuse items of other principals (as if absent). */
  readonly principal?: PrincipalId;
  /** Cancels the call. */
  readonly signal?: AbortSignal;
}

/**
 * The persisted queue of deferred approvals.
 *
 * @example Queue, list and take an item
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeferredQueue } from "./deferred_queue.ts";
 * import { KvStore } from "../../store/kv_store.ts";
 * import { openKv } from "../../host/open_kv.ts";
 * import { FakeClock } from "../../testing/fake_clock.ts";
 * import { SeededRandom } from "../../testing/seeded_random.ts";
 * import type { GateContext } from "../context.ts";
 *
 * await using store = new KvStore(await openKv(":memory:"));
 * const queue = new DeferredQueue({ store, clock: new FakeClock(0), random: new SeededRandom(1) });
 * const ctx = {
 *   principal: "alice", session: "00000000-0000-4000-8000-000000000001",
 *   workspace: "/ws", callId: "c1",
 * } as unknown as GateContext;
 * const item = await queue.add({
 *   action: { type: "file_delete", path: "/ws/a" }, ctx,
 *   summary: "Delete /ws/a", risk: "high", reason: "no approval handler registered",
 * });
 * assert.equal((await queue.list(ctx.principal)).length, 1);
 * assert.deepEqual(await queue.take(item.id), item);
 * await assert.rejects(queue.take(item.id), /DEFERRED|resolution/);
 * ```
 */
export class DeferredQueue {
  #store: Store;
  #clock: Clock;
  #random: Random;

  /**
   * Creates the queue view.
   *
   * @param deps The store, the clock and randomness.
   */
  constructor(deps: DeferredQueueDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  /**
   * Queues an approval no human answered.
   *
   * @param request The action, context, summary, risk and reason.
   * @param options Cancellation.
   * @returns The persisted item.
   * @throws {KernelError} `ABORTED`; `STORE_VALUE_TOO_LARGE` and other store errors.
   */
  async add(
    request: DeferRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<DeferredResolution> {
    throwIfAborted(options.signal, "queuing a deferred approval");
    const queuedAt = this.#clock.now();
    const item: DeferredResolution = {
      id: `resolution:${uuidV4(this.#random)}`,
      action: request.action,
      ctx: request.ctx,
      summary: request.summary,
      risk: request.risk,
      reason: request.reason,
      "queued_at": queuedAt,
      "expires_at": queuedAt + DEFERRED_TTL_MS,
    };
    await this.#store.set(keyOf(item.id), toJson(item));
    return item;
  }

  /**
   * Lists a principal's pending items, oldest first; expired items are
   * left out and deleted.
   *
   * @param principal Whose items.
   * @param options The time to judge expiry by (default: the clock), cancellation.
   * @returns The pending items.
   * @throws {KernelError} `ABORTED`; store errors.
   */
  async list(
    principal: PrincipalId,
    options: { now?: number; signal?: AbortSignal } = {},
  ): Promise<DeferredResolution[]> {
    const now = options.now ?? this.#clock.now();
    const items: DeferredResolution[] = [];
    await this.#scan(now, options.signal, (item) => {
      if (item.ctx.principal === principal) items.push(item);
    });
    return items.sort((a, b) => a.queued_at - b.queued_at);
  }

  /**
   * Reads one pending item without taking it.
   *
   * @param id The item id.
   * @param options An owning principal to require, cancellation.
   * @returns The item, or `null` when unknown, expired or another principal's.
   * @throws {KernelError} `ABORTED`; store errors.
   */
  async get(
    id: string,
    options: DeferredLookupOptions = {},
  ): Promise<DeferredResolution | null> {
    throwIfAborted(options.signal, "reading a deferred approval");
    if (!ID.test(id)) return null;
    const entry = await this.#store.get(keyOf(id));
    const item = entry === null ? null : parseItem(entry.value);
    return item !== null && this.#visible(item, options.principal)
      ? item
      : null;
  }

  /**
   * Removes one pending item and returns it, atomically: of concurrent takes
   * of one id exactly one succeeds.
   *
   * @param id The item id.
   * @param options An owning principal to require, cancellation.
   * @returns The item.
   * @throws {KernelError} `DEFERRED_NOT_FOUND` when unknown, already taken,
   * expired (it is then deleted) or another principal's; `ABORTED`; store errors.
   */
  async take(
    id: string,
    options: DeferredLookupOptions = {},
  ): Promise<DeferredResolution> {
    throwIfAborted(options.signal, "taking a deferred approval");
    if (!ID.test(id)) throw notFound(id);
    const key = keyOf(id);
    const now = this.#clock.now();
    const { value } = await this.#store.transact(async (tx) => {
      const entry = await tx.get(key);
      if (entry === null) return null;
      const item = parseItem(entry.value);
      if (item === null || item.expires_at <= now) {
        tx.delete(key);
        return null;
      }
      if (!this.#visible(item, options.principal)) return null;
      tx.delete(key);
      return item;
    }, options.signal === undefined ? {} : { signal: options.signal });
    if (value === null) throw notFound(id);
    return value;
  }

  /**
   * Deletes every expired item (and any malformed record).
   *
   * @param options The time to judge expiry by (default: the clock), cancellation.
   * @returns How many were deleted.
   * @throws {KernelError} `ABORTED`; store errors.
   */
  async expire(
    options: { now?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    return await this.#scan(
      options.now ?? this.#clock.now(),
      options.signal,
      () => {},
    );
  }

  #visible(
    item: DeferredResolution,
    principal: PrincipalId | undefined,
  ): boolean {
    return item.expires_at > this.#clock.now() &&
      (principal === undefined || item.ctx.principal === principal);
  }

  async #scan(
    now: number,
    signal: AbortSignal | undefined,
    visit: (item: DeferredResolution) => void,
  ): Promise<number> {
    const stale: Array<{ key: StoreKey; versionstamp: string }> = [];
    const opts = signal === undefined ? {} : { signal };
    for await (const entry of this.#store.list([DEFERRED_NAMESPACE], opts)) {
      const item = parseItem(entry.value);
      if (item === null || item.expires_at <= now) {
        stale.push({ key: entry.key, versionstamp: entry.versionstamp });
      } else visit(item);
    }
    let deleted = 0;
    for (const { key, versionstamp } of stale) {
      const r = await this.#store.atomic().check(key, versionstamp).delete(key)
        .commit();
      if (r.ok) deleted++;
    }
    return deleted;
  }
}

function keyOf(id: string): StoreKey {
  return [DEFERRED_NAMESPACE, id];
}

function notFound(id: string): KernelError {
  const shown = JSON.stringify(id.slice(0, 80));
  return new KernelError(
    "DEFERRED_NOT_FOUND",
    `Cannot resolve deferred approval ${shown} as no pending resolution has that id (it may have expired or been resolved)`,
    { data: { id: id.slice(0, 80) } },
  );
}

function toJson(item: DeferredResolution): JsonValue {
  const c = item.ctx;
  const ctx: Record<string, JsonValue> = {
    principal: c.principal,
    session: c.session,
    workspace: c.workspace,
    callId: c.callId,
  };
  if (c.capsule !== undefined) ctx["capsule"] = c.capsule;
  return { ...item, action: item.action as JsonValue, ctx };
}

/** Reads a stored item back; `null` when malformed (it is then purged). */
function parseItem(raw: unknown): DeferredResolution | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return null;
  }
  const o = raw as Record<string, unknown>;
  const c = o["ctx"] as Record<string, unknown> | null | undefined;
  const action = o["action"] as Record<string, unknown> | null | undefined;
  const ok = typeof o["id"] === "string" && ID.test(o["id"]) &&
    typeof action === "object" && action !== null &&
    typeof action["type"] === "string" &&
    typeof c === "object" && c !== null &&
    typeof c["workspace"] === "string" && typeof c["callId"] === "string" &&
    typeof o["summary"] === "string" && typeof o["reason"] === "string" &&
    RISKS.includes(o["risk"] as RiskLevel) &&
    Number.isSafeInteger(o["queued_at"]) &&
    Number.isSafeInteger(o["expires_at"]);
  if (!ok) return null;
  try {
    const ctx: GateContext = {
      principal: parsePrincipalId(c["principal"]),
      session: parseSessionId(c["session"]),
      ...(c["capsule"] === undefined
        ? {}
        : { capsule: parseCapsuleId(c["capsule"]) }),
      workspace: c["workspace"] as string,
      callId: c["callId"] as string,
    };
    return {
      id: o["id"] as string,
      action: action as unknown as Action,
      ctx,
      summary: o["summary"] as string,
      risk: o["risk"] as RiskLevel,
      reason: o["reason"] as string,
      queued_at: o["queued_at"] as number,
      expires_at: o["expires_at"] as number,
    };
  } catch (err) {
    // silent-ok: a record with a malformed id is purged like any malformed record.
    if (KernelError.is(err, "INVALID_ID")) return null;
    throw err;
  }
}
