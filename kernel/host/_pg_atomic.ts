/**
 * Private: the atomic commit of the PostgreSQL store — the PL/pgSQL function
 * that runs it and the {@linkcode KvLikeAtomic} that calls it. See
 * `open_pg.ts` for why commits are serialised on the clock row.
 *
 * @module
 */
import type postgres from "postgres";
import type { KvLikeAtomic, KvLikeKey } from "../store/kv_like.ts";
import type { StoreKey } from "../store/store.ts";
import { encodeKey } from "../store/store_key.ts";
import { pgError, sqlState } from "./_pg_errors.ts";

type Sql = postgres.Sql;

/**
 * Formats a commit number as a versionstamp: 20 hex digits, the shape of
 * Deno KV's, so that equal numbers give equal strings and string order is
 * commit order.
 *
 * @param n The commit number.
 * @returns The versionstamp.
 *
 * @example
 * ```ts
 * import { versionstampOf } from "./open_pg.ts";
 * console.assert(versionstampOf(255n) === "000000000000000000ff");
 * ```
 */
export function versionstampOf(n: bigint): string {
  return n.toString(16).padStart(20, "0");
}

/** The SQLSTATE `astrid_store_commit` raises when a check fails. */
const CHECK_FAILED = "AS001";

/**
 * The commit, run as one statement. Taking the clock row's lock first
 * serialises commits; each later statement of a PL/pgSQL function reads a
 * fresh snapshot, so the checks see every commit before this one. A failed
 * check raises, which rolls back the clock too. Versionstamps arrive as
 * their 20-hex-digit text (`""` = must be absent), keys and values as hex.
 */
export const COMMIT_FUNCTION = `CREATE OR REPLACE FUNCTION astrid_store_commit(
  ck text[], cv text[], sk text[], sv text[], dk text[]) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE n bigint; bad int;
BEGIN
  UPDATE astrid_store_clock SET vs = vs + 1 WHERE id = 1 RETURNING vs INTO n;
  SELECT count(*) INTO bad FROM unnest(ck, cv) AS c(k, v)
    LEFT JOIN astrid_store s ON s.k = decode(c.k, 'hex')
    WHERE coalesce(lpad(to_hex(s.vs), 20, '0'), '') <> c.v;
  IF bad > 0 THEN
    RAISE EXCEPTION 'a check failed' USING ERRCODE = '${CHECK_FAILED}';
  END IF;
  INSERT INTO astrid_store (k, v, vs)
    SELECT decode(t.k, 'hex'), decode(t.v, 'hex'), n FROM unnest(sk, sv) AS t(k, v)
    ON CONFLICT (k) DO UPDATE SET v = excluded.v, vs = excluded.vs;
  DELETE FROM astrid_store
    WHERE k IN (SELECT decode(d.k, 'hex') FROM unnest(dk) AS d(k));
  RETURN n;
END $fn$`;

/** An atomic commit on the PostgreSQL store. */
export class PgAtomic implements KvLikeAtomic {
  #sql: Sql;
  #secret: string | undefined;
  #checks: { key: Uint8Array; versionstamp: string | null }[] = [];
  /** Last write per key wins, as when applied in order. */
  #writes = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();

  constructor(sql: Sql, secret: string | undefined) {
    this.#sql = sql;
    this.#secret = secret;
  }

  check(...checks: { key: KvLikeKey; versionstamp: string | null }[]): this {
    for (const c of checks) {
      this.#checks.push({
        key: encodeKey(c.key as StoreKey),
        versionstamp: c.versionstamp,
      });
    }
    return this;
  }

  set(key: KvLikeKey, value: unknown): this {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError("Cannot set a value that is not encoded bytes");
    }
    const k = encodeKey(key as StoreKey);
    this.#writes.set(hex(k), { key: k, value });
    return this;
  }

  delete(key: KvLikeKey): this {
    const k = encodeKey(key as StoreKey);
    this.#writes.set(hex(k), { key: k, value: null });
    return this;
  }

  async commit(): Promise<{ ok: true; versionstamp: string } | { ok: false }> {
    const writes = [...this.#writes.values()];
    const sets = writes.filter((w) => w.value !== null);
    const deletes = writes.filter((w) => w.value === null);
    const sql = this.#sql;
    try {
      // One statement, one round trip, its own transaction: nothing to roll
      // back from the client if the connection drops.
      const [row] = await sql<{ vs: bigint }[]>`SELECT astrid_store_commit(
        ${sql.array(this.#checks.map((c) => hex(c.key)))}::text[],
        ${sql.array(this.#checks.map((c) => c.versionstamp ?? ""))}::text[],
        ${sql.array(sets.map((w) => hex(w.key)))}::text[],
        ${sql.array(sets.map((w) => hex(w.value!)))}::text[],
        ${sql.array(deletes.map((w) => hex(w.key)))}::text[]) AS vs`;
      if (!row) throw new Error("the commit returned no row");
      return { ok: true, versionstamp: versionstampOf(row.vs) };
    } catch (err) {
      // A failed check, a serialisation failure or a deadlock: all rolled back.
      const state = sqlState(err);
      if (state === CHECK_FAILED || state === "40001" || state === "40P01") {
        return { ok: false };
      }
      throw pgError(
        err,
        "commit on PostgreSQL",
        this.#secret,
        state === undefined
          ? "its outcome is unknown"
          : "the server rolled it back",
      );
    }
  }
}

/**
 * Hex of bytes (keys and values travel to the commit function as text).
 *
 * @param b The bytes.
 * @returns Lowercase hex.
 */
export function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}
