/**
 * Private: the in-memory copy of each principal's allowances kept by one
 * `AllowanceStore`, so that the gate's allowance lookup needs no store scan —
 * and no I/O at all for a principal without allowances.
 *
 * A principal's allowances are loaded from the store the first time they are
 * needed, then kept up to date by every mutation of the same store view:
 * `add`/`grant` put, a consumed use puts the decremented record (or removes
 * it at zero), `revoke`, `clearSession` and purges remove. Mutations made
 * while a principal is loading are applied too and win over what the load
 * read, so a load racing a mutation cannot resurrect a removed allowance or
 * overwrite a newer record.
 *
 * Security model: the cache only proposes candidates. Using one still reads
 * its record from the store (an unlimited allowance) or consumes a use in a
 * store transaction (a limited one), so a stale entry can never grant
 * anything, and an allowance revoked by another kernel on the same store is
 * refused at once. The other direction — an allowance another kernel granted
 * that this cache lacks — is caught by the principal's allowance epoch: a
 * key rewritten in the commit that stores each of the principal's
 * allowances. A slot remembers the epoch's versionstamp read before its
 * load, and {@linkcode AllowanceCache.of} drops the slot when the
 * epoch moved, so the next lookup reloads. The cache is never shared between
 * instances.
 *
 * @module
 */
import type { PrincipalId } from "../../core/ids.ts";
import type { Allowance } from "./allowance.ts";

/** An allowance as last seen in the store. */
export interface CachedAllowance {
  /** The record. */
  readonly allowance: Allowance;
  /** Its versionstamp. */
  readonly versionstamp: string;
}

interface Slot {
  readonly items: Map<string, CachedAllowance>;
  /** Settles when loaded; `null` once loaded. */
  loading: Promise<void> | null;
  /** Ids removed while loading: the load must not add them back. */
  readonly removed: Set<string>;
  /** The versionstamp of the principal's allowance epoch before the load. */
  readonly epoch: string | null;
}

/** Allowances by principal, loaded lazily, updated write-through. */
export class AllowanceCache {
  #slots = new Map<PrincipalId, Slot>();

  /**
   * A principal's allowances, loading them first if needed.
   *
   * @param principal Whose allowances.
   * @param load Reads them from the store (live ones only).
   * @param epoch The versionstamp of the principal's allowance epoch, read
   *   before `load` runs.
   * @returns Allowances by id.
   * @throws Whatever `load` throws (nothing is cached then).
   */
  async of(
    principal: PrincipalId,
    load: () => Promise<readonly CachedAllowance[]>,
    epoch: string | null,
  ): Promise<ReadonlyMap<string, CachedAllowance>> {
    let slot = this.#slots.get(principal);
    if (slot !== undefined && slot.epoch !== epoch) {
      // Another writer stored an allowance since the load: load again.
      this.#slots.delete(principal);
      slot = undefined;
    }
    if (slot === undefined) {
      const fresh: Slot = {
        items: new Map(),
        loading: null,
        removed: new Set(),
        epoch,
      };
      fresh.loading = load().then(
        (loaded) => {
          for (const item of loaded) {
            const id = item.allowance.id;
            if (!fresh.removed.has(id) && !fresh.items.has(id)) {
              fresh.items.set(id, item);
            }
          }
          fresh.loading = null;
          fresh.removed.clear();
        },
        (err) => {
          if (this.#slots.get(principal) === fresh) {
            this.#slots.delete(principal);
          }
          throw err;
        },
      );
      this.#slots.set(principal, fresh);
      slot = fresh;
    }
    if (slot.loading !== null) await slot.loading;
    return slot.items;
  }

  /**
   * A principal's allowances and the epoch they were loaded at, when loaded
   * (no load is started).
   *
   * @param principal Whose allowances.
   * @returns The loaded slot, or `undefined`.
   */
  peek(principal: PrincipalId):
    | {
      readonly items: ReadonlyMap<string, CachedAllowance>;
      readonly epoch: string | null;
    }
    | undefined {
    const slot = this.#slots.get(principal);
    return slot === undefined || slot.loading !== null ? undefined : slot;
  }

  /**
   * Records the current state of an allowance just written or read.
   *
   * @param allowance The record.
   * @param versionstamp Its versionstamp.
   */
  put(allowance: Allowance, versionstamp: string): void {
    const slot = this.#slots.get(allowance.principal);
    if (slot === undefined) return; // loaded from the store when first needed
    slot.removed.delete(allowance.id);
    slot.items.set(allowance.id, { allowance, versionstamp });
  }

  /**
   * Forgets an allowance that was deleted (or that no longer parses).
   *
   * @param principal Whose allowance.
   * @param id Its id.
   */
  remove(principal: PrincipalId, id: string): void {
    const slot = this.#slots.get(principal);
    if (slot === undefined) return;
    slot.items.delete(id);
    if (slot.loading !== null) slot.removed.add(id);
  }
}
