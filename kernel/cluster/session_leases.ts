/**
 * Session leases: which node serves a session of a cluster. A session is
 * served by one node at a time; the node that holds its lease renews it
 * (every third of `cluster.lease_secs`), and another node may take the
 * session over only once the lease has expired (its node died or lost the
 * store) — or at once when the holder released it (graceful stop).
 *
 * A node offers a session it has not used for `idleMs` (and that is not
 * busy) to the others: its renewal marks the lease `idle`, and any node may
 * then take it at once — the next use on the old node goes through the store
 * and finds the session elsewhere (or takes it back if it is idle there too).
 *
 * Two keys per session, in the shared store:
 * - `["cluster:session_owner", principal, session]` = `{node, epoch}`:
 *   written only when a node takes the session (epoch + 1). Its versionstamp
 *   is the **fencing token**: every write of the session's runtime commits
 *   with a check of it (`fenced_store.ts`), so once another node took the
 *   session over, the old holder's late writes are refused
 *   (`SESSION_LEASE_LOST`) — even if it is still running and does not know.
 * - `["cluster:session_lease", principal, session]` = `{node, epoch,
 *   expires_at}`: renewed by the holder (checked against the owner key, so
 *   a node that lost the session cannot renew it back).
 *
 * Security model: expiry compares the stored `expires_at` (the holder's clock)
 * with the taker's clock, so the clocks of the nodes must agree to well
 * within a lease (NTP); the fencing token does not depend on clocks: a stale
 * holder's store writes fail whatever the clocks say. A holder also stops on
 * its own (`onLost`) when it could not renew and its lease would run out
 * before the next try — a third of a lease before any other node may take
 * the session.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Clock } from "../core/ports.ts";
import type {
  JsonValue,
  Store,
  StoreKey,
  Versionstamp,
} from "../store/store.ts";

/** Store namespace of the owner (fencing) keys. */
export const OWNER_NAMESPACE = "cluster:session_owner";
/** Store namespace of the lease (expiry) keys. */
export const LEASE_NAMESPACE = "cluster:session_lease";

/** A lease this node holds. */
export interface HeldLease {
  /** The session. */
  readonly session: string;
  /** The takeover count of the session (1 = first node). */
  readonly epoch: number;
  /** The owner key (check it to fence a write). */
  readonly ownerKey: StoreKey;
  /** The owner key's versionstamp when this node took the session. */
  readonly fence: Versionstamp;
  /** `true` while this node may still act for the session (by its own clock). */
  valid(): boolean;
}

/** What {@linkcode SessionLeases.acquire} reports. */
export interface Acquired {
  /** The lease. */
  readonly lease: HeldLease;
  /** `true` when this call took the session (it was not held here before). */
  readonly taken: boolean;
}

interface Held {
  lease: HeldLease;
  leaseVs: Versionstamp;
  validUntil: number;
  lost: boolean;
  /** Offered to other nodes (stored as `idle: true`). */
  idle: boolean;
  /** The last use (`acquire`, or a renewal while busy). */
  usedAt: number;
}

/** What the lease constructor takes. */
export interface SessionLeasesOptions {
  /** This node's id. */
  readonly node: string;
  /** Whose sessions. */
  readonly principal: string;
  /** The lease length (ms). */
  readonly ttlMs: number;
  /**
   * After how long unused (and not busy) a held session is offered to other
   * nodes: its lease is marked idle and any node may take it at once
   * (`0` = never: a node keeps its sessions until it stops). Default `0`.
   */
  readonly idleMs?: number;
}

/** The leases of one node, for one principal's sessions. */
export class SessionLeases {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #node: string;
  readonly #principal: string;
  readonly #ttl: number;
  readonly #idleMs: number;
  #busy: (session: string) => boolean = () => false;
  readonly #held = new Map<string, Held>();
  readonly #pending = new Map<string, Promise<Acquired>>();
  readonly #lost = new Set<(session: string) => void>();

  /**
   * @param store The cluster's shared store.
   * @param clock The clock.
   * @param options This node's id, the principal, the lease length, the idle handover.
   */
  constructor(store: Store, clock: Clock, options: SessionLeasesOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#node = options.node;
    this.#principal = options.principal;
    this.#ttl = options.ttlMs;
    this.#idleMs = options.idleMs ?? 0;
  }

  /**
   * Tells the leases which sessions are busy (a turn, a tool call, a
   * commit): a busy session is never offered to other nodes.
   *
   * @param fn `true` while the session is busy.
   */
  setBusyProbe(fn: (session: string) => boolean): void {
    this.#busy = fn;
  }

  /** This node's id. */
  get node(): string {
    return this.#node;
  }

  /** How many sessions this node holds. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * Calls `fn` when this node loses a session (renewal refused or too late).
   *
   * @param fn The listener.
   */
  onLost(fn: (session: string) => void): void {
    this.#lost.add(fn);
  }

  /**
   * Makes sure this node holds the session's lease: keeps a valid one, takes
   * a free, released or expired one (or one this node id held before a
   * restart).
   *
   * @param session The session id.
   * @returns The lease, and whether it was taken now.
   * @throws {KernelError} `SESSION_ELSEWHERE` while another node holds an
   *   unexpired lease; `STORE_UNAVAILABLE`.
   */
  acquire(session: string): Promise<Acquired> {
    const held = this.#held.get(session);
    if (held && !held.lost && !held.idle && held.lease.valid()) {
      held.usedAt = this.#clock.now();
      return Promise.resolve({ lease: held.lease, taken: false });
    }
    let p = this.#pending.get(session);
    if (p === undefined) {
      p = this.#reacquire(session, held).finally(() =>
        this.#pending.delete(session)
      );
      this.#pending.set(session, p);
    }
    return p;
  }

  /**
   * A lease this node still holds but that ran out by its clock (a stalled
   * event loop) or that it offered as idle is renewed in place (not idle)
   * when no other node took it meanwhile — the session keeps its runtime;
   * otherwise the session is taken anew.
   */
  async #reacquire(session: string, held: Held | undefined): Promise<Acquired> {
    if (held && !held.lost && await this.#renewOne(session, held, false)) {
      held.usedAt = this.#clock.now();
      return { lease: held.lease, taken: false };
    }
    return await this.#take(session);
  }

  /** Renews one lease; `false` when the store refused it (another node took it). */
  async #renewOne(session: string, h: Held, idle: boolean): Promise<boolean> {
    const start = this.#clock.now();
    const leaseKey: StoreKey = [LEASE_NAMESPACE, this.#principal, session];
    const r = await this.#store.atomic()
      .check(h.lease.ownerKey, h.lease.fence)
      .check(leaseKey, h.leaseVs)
      .set(leaseKey, {
        node: this.#node,
        epoch: h.lease.epoch,
        expires_at: start + this.#ttl,
        ...(idle ? { idle: true } : {}),
      })
      .commit();
    if (!r.ok) return false;
    h.leaseVs = r.versionstamp;
    h.validUntil = start + this.#ttl;
    h.idle = idle;
    return true;
  }

  async #take(session: string): Promise<Acquired> {
    const old = this.#held.get(session);
    if (old) this.#lose(session, old);
    const ownerKey: StoreKey = [OWNER_NAMESPACE, this.#principal, session];
    const leaseKey: StoreKey = [LEASE_NAMESPACE, this.#principal, session];
    for (let attempt = 0; attempt < 5; attempt++) {
      const [owner, lease] = await this.#store.getMany([ownerKey, leaseKey]);
      const l = lease?.value as
        | { node?: unknown; expires_at?: unknown; idle?: unknown }
        | undefined;
      const now = this.#clock.now();
      if (
        l && l.node !== this.#node && typeof l.expires_at === "number" &&
        l.expires_at > now && l.idle !== true
      ) {
        throw new KernelError(
          "SESSION_ELSEWHERE",
          `Session ${session} is served by node ${
            String(l.node).slice(0, 63)
          } (its lease runs ${
            Math.ceil((l.expires_at - now) / 1000)
          } s more); use that node, or wait for it to expire if the node is gone`,
          { data: { node: String(l.node).slice(0, 63) } },
        );
      }
      const prev = owner?.value as { epoch?: unknown } | undefined;
      const epoch = (typeof prev?.epoch === "number" ? prev.epoch : 0) + 1;
      const start = this.#clock.now();
      const record = { node: this.#node, epoch };
      const r = await this.#store.atomic()
        .check(ownerKey, owner?.versionstamp ?? null)
        .check(leaseKey, lease?.versionstamp ?? null)
        .set(ownerKey, record as JsonValue)
        .set(leaseKey, { ...record, expires_at: start + this.#ttl })
        .commit();
      if (!r.ok) continue;
      const h: Held = {
        lease: {
          session,
          epoch,
          ownerKey,
          fence: r.versionstamp,
          valid: () => !h.lost && this.#clock.now() < h.validUntil,
        },
        leaseVs: r.versionstamp,
        validUntil: start + this.#ttl,
        lost: false,
        idle: false,
        usedAt: start,
      };
      this.#held.set(session, h);
      return { lease: h.lease, taken: true };
    }
    throw new KernelError(
      "STORE_CONFLICT",
      `Cannot take the lease of session ${session}: other nodes kept changing it`,
    );
  }

  /**
   * Resolves while this node holds the session: at once while its lease is
   * valid by this node's clock, after a renewal in place otherwise (a stalled
   * or paused node asks the store before it acts again).
   *
   * @param session The session id.
   * @throws {KernelError} `SESSION_LEASE_LOST` when this node does not hold
   *   it (never took it, lost it, or another node took it meanwhile).
   */
  async ensure(session: string): Promise<void> {
    const h = this.#held.get(session);
    if (h && !h.lost && !h.idle && h.lease.valid()) return;
    if (h && !h.lost) {
      const renewed = await this.#renewOne(session, h, false).catch(() =>
        false
      );
      if (renewed) {
        h.usedAt = this.#clock.now();
        return;
      }
      this.#lose(session, h);
    }
    throw new KernelError(
      "SESSION_LEASE_LOST",
      `Cannot write the overlay of session ${session}: this node no longer holds its lease`,
    );
  }

  /**
   * Which other node serves a session now (an unexpired lease that is not
   * offered idle), without taking it.
   *
   * @param session The session id.
   * @returns The other node's id, or `null` (free, idle, expired or ours).
   */
  async holder(session: string): Promise<string | null> {
    const e = await this.#store.get([
      LEASE_NAMESPACE,
      this.#principal,
      session,
    ]);
    const l = e?.value as
      | { node?: unknown; expires_at?: unknown; idle?: unknown }
      | undefined;
    return l && typeof l.node === "string" && l.node !== this.#node &&
        typeof l.expires_at === "number" &&
        l.expires_at > this.#clock.now() && l.idle !== true
      ? l.node
      : null;
  }

  /**
   * Renews every held lease once; a lease the store refuses (another node
   * took the session) or that ran out before it could be renewed is lost
   * (the `onLost` listeners run). A session unused for the idle time and
   * not busy is renewed as idle: offered to other nodes.
   */
  async renew(): Promise<void> {
    for (const [session, h] of [...this.#held]) {
      if (h.lost) continue;
      const now = this.#clock.now();
      if (this.#busy(session)) h.usedAt = now;
      const idle = h.idle ||
        (this.#idleMs > 0 && now - h.usedAt >= this.#idleMs);
      // From here on a use of the session goes through the store (the slow
      // path of `acquire`), so it cannot slip past the offer.
      if (idle) h.idle = true;
      try {
        if (await this.#renewOne(session, h, idle)) continue;
      } catch {
        // The store is unreachable: keep the lease while the next renewal
        // could still come in time; give it up a renewal period before it
        // runs out, so that this node has stopped before any other node
        // may take the session (clocks agreeing).
        if (this.#clock.now() + this.#ttl / 3 < h.validUntil) continue;
      }
      this.#lose(session, h);
    }
  }

  #lose(session: string, h: Held): void {
    h.lost = true;
    this.#held.delete(session);
    for (const fn of this.#lost) {
      try {
        fn(session);
      } catch {
        // silent-ok: a listener's failure must not stop the others
      }
    }
  }

  /**
   * Gives a session back (its lease is deleted, so any node may take it at
   * once). A lease already lost is left alone.
   *
   * @param session The session id.
   * @param options `forget`: the session was deleted — its owner key goes
   *   too.
   */
  async release(
    session: string,
    options: { forget?: boolean } = {},
  ): Promise<void> {
    const h = this.#held.get(session);
    if (h === undefined) return;
    this.#held.delete(session);
    h.lost = true;
    const leaseKey: StoreKey = [LEASE_NAMESPACE, this.#principal, session];
    const op = this.#store.atomic()
      .check(h.lease.ownerKey, h.lease.fence)
      .check(leaseKey, h.leaseVs)
      .delete(leaseKey);
    if (options.forget) op.delete(h.lease.ownerKey);
    await op.commit();
  }

  /** Releases every held lease (graceful stop); failures are ignored. */
  async releaseAll(): Promise<void> {
    for (const session of [...this.#held.keys()]) {
      await this.release(session).catch(() => {});
    }
  }
}
