/**
 * Private: what one `TokenAuthority` has already proven about registered
 * token records, so that verifying the same token again skips the
 * canonical-JSON comparison, the Ed25519 signature check, the parse of a
 * parent and the parent-link check — but never a store read.
 *
 * Security model: an entry says "the record of this id, at this store
 * versionstamp, holds exactly this token, signed by a key this authority
 * trusts" (and, when `parent` is set, "this token lies within that parent
 * object"). A hit requires the record read from the store in the same
 * verification to carry the same versionstamp — every write of a key changes
 * its versionstamp, so an edited, re-registered or deleted record never hits,
 * whoever wrote it — and the presented token to be the cached object or
 * byte-identical to it (compared in constant time). Entries are facts about
 * immutable bytes: registration, expiry, revocation and consumption are
 * still checked against the store on every verification. The cache belongs to
 * one authority, whose trusted keys never change, and is never shared.
 *
 * @module
 */
import type { TokenId } from "../core/ids.ts";
import { timingSafeEqual } from "./_timing_safe_equal.ts";
import type { CapabilityToken } from "./mint_token.ts";

/** Entries kept at most; the oldest is dropped first. */
export const MAX_VERIFIED_TOKENS = 10_000;

/** A token proven registered and signed. */
export interface VerifiedToken {
  /** The token, as verified. */
  readonly token: CapabilityToken;
  /** The versionstamp of the record it was verified against. */
  readonly versionstamp: string;
  /** The parent object whose link to this token was checked, if any. */
  readonly parent: CapabilityToken | null;
}

/** Verified tokens by id, bounded. */
export class VerifiedTokens {
  #entries = new Map<TokenId, VerifiedToken>();
  #max: number;

  /**
   * @param max Entries kept at most.
   * @throws {RangeError} When `max` is not a positive integer.
   */
  constructor(max: number = MAX_VERIFIED_TOKENS) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot keep ${max} verified tokens: expected a positive integer`,
      );
    }
    this.#max = max;
  }

  /**
   * The token last verified under an id, whatever its record holds now: a
   * hint to read a whole chain in one round trip, never a proof.
   *
   * @param id The token id.
   * @returns The token, or `undefined`.
   */
  hint(id: TokenId): CapabilityToken | undefined {
    return this.#entries.get(id)?.token;
  }

  /**
   * The entry for a record, if the record is still the one verified.
   *
   * @param id The token id.
   * @param versionstamp The versionstamp of the record just read.
   * @returns The entry, or `undefined` when unknown or stale.
   */
  at(id: TokenId, versionstamp: string): VerifiedToken | undefined {
    const entry = this.#entries.get(id);
    return entry?.versionstamp === versionstamp ? entry : undefined;
  }

  /**
   * Whether `token` is proven registered and signed as the record read now.
   *
   * @param token The presented token.
   * @param versionstamp The versionstamp of its record, read just now.
   * @returns `true` on a hit.
   */
  proves(token: CapabilityToken, versionstamp: string): boolean {
    const entry = this.at(token.id, versionstamp);
    if (entry === undefined) return false;
    if (entry.token === token) return true;
    const encoder = new TextEncoder();
    return timingSafeEqual(entry.token.payload, token.payload) &&
      timingSafeEqual(
        encoder.encode(entry.token.toJSON().signature),
        encoder.encode(token.toJSON().signature),
      );
  }

  /**
   * Records that `token` matched its record at `versionstamp` and verified.
   *
   * @param token The verified token.
   * @param versionstamp Its record's versionstamp.
   */
  remember(token: CapabilityToken, versionstamp: string): void {
    if (this.at(token.id, versionstamp)?.token === token) return;
    this.#entries.delete(token.id);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token.id, { token, versionstamp, parent: null });
  }

  /**
   * Records that a remembered token lies within `parent`.
   *
   * @param child The child, as remembered.
   * @param versionstamp The child's record versionstamp.
   * @param parent The parent object the link was checked against.
   */
  linked(
    child: CapabilityToken,
    versionstamp: string,
    parent: CapabilityToken,
  ): void {
    const entry = this.at(child.id, versionstamp);
    if (entry?.token !== child) return;
    this.#entries.set(child.id, { ...entry, parent });
  }

  /**
   * Forgets a token (it was deleted).
   *
   * @param id The id.
   */
  forget(id: TokenId): void {
    this.#entries.delete(id);
  }
}
