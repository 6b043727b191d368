/**
 * Opens the PostgreSQL database behind the store: a {@linkcode KvLike} on one
 * table, so that `KvStore` adds the very same key validation, value codec,
 * limits and transactions as on Deno KV. The only user of the PostgreSQL
 * client in the project.
 *
 * Schema (created on first open, under an advisory lock so that several
 * kernels may open at once):
 * - `astrid_store(k bytea primary key, v bytea, vs bigint)`: `k` is the key
 *   as `encodeKey()` writes it (byte order = key order), `v` the value as the
 *   store's codec encoded it (tag byte + canonical JSON or raw bytes), `vs`
 *   the commit that wrote it;
 * - `astrid_store_clock(id = 1, vs bigint)`: the last commit number.
 *
 * - `astrid_store_commit(...)`: the commit, a PL/pgSQL function.
 *
 * A commit is one statement — one round trip, its own transaction — calling
 * that function, which first increments the clock row (holding that row's
 * lock until it ends, so commits run one at a time across every connection
 * and every kernel), then verifies the checks, then writes. Hence a
 * versionstamp (the commit number as 20 hex digits, Deno KV's shape) is
 * strictly increasing in commit order across the whole store, and a check
 * sees every earlier commit. A failed check rolls everything back (`ok:
 * false`); any other failure throws `STORE_UNAVAILABLE` — when the connection
 * dropped while the statement was out, its outcome is unknown and it is never
 * reported as done. Reads are plain statements (one snapshot each: a
 * `getMany` batch, a listing page); the pool reconnects by itself after the
 * server restarts.
 *
 * Security model: the password never travels in the URL kept in config; it
 * is passed separately, and no error message, `cause` or log line carries the
 * URL, the password, or a host path (errors name the server's SQLSTATE or the
 * client's error code only).
 *
 * @module
 */
import type postgres from "postgres";
import { KernelError } from "../core/errors.ts";
import {
  COMMIT_FUNCTION,
  hex,
  PgAtomic,
  versionstampOf,
} from "./_pg_atomic.ts";
import { pgError } from "./_pg_errors.ts";
import type {
  KvLike,
  KvLikeAtomic,
  KvLikeEntry,
  KvLikeKey,
  KvLikeListOptions,
  KvLikeSelector,
} from "../store/kv_like.ts";
import { decodeKey, encodeKey } from "../store/store_key.ts";
import type { StoreKey } from "../store/store.ts";

/** How to reach the database. */
export interface OpenPgOptions {
  /**
   * A `postgres://` or `postgresql://` URL without a password, e.g.
   * `postgres://astrid@db.internal:5432/astrid` or, on a unix socket,
   * `postgres://astrid@/astrid?host=/run/postgresql`.
   */
  readonly url: string;
  /** The password, kept apart from the URL (omit for trust/peer auth). */
  readonly password?: string;
  /** Connections in the pool (default 4). */
  readonly maxConnections?: number;
  /** Seconds to wait for a connection before failing (default 10). */
  readonly connectTimeoutSecs?: number;
}

/** Rows fetched per round trip while listing. */
const PAGE = 256;
/** The advisory lock that serialises schema creation. */
const SCHEMA_LOCK = 0x61737472; // "astr"

/** Creates what is missing of the schema, under {@linkcode SCHEMA_LOCK}. */
const SCHEMA = `DO $do$ BEGIN
  PERFORM pg_advisory_xact_lock(${SCHEMA_LOCK});
  CREATE TABLE IF NOT EXISTS astrid_store (
    k bytea PRIMARY KEY, v bytea NOT NULL, vs bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS astrid_store_clock (
    id int PRIMARY KEY CHECK (id = 1), vs bigint NOT NULL);
  INSERT INTO astrid_store_clock VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
  EXECUTE $ddl$${COMMIT_FUNCTION}$ddl$;
END $do$`;

type Sql = postgres.Sql;

/**
 * Connects to PostgreSQL, creates the schema if missing and returns the
 * database as a {@linkcode KvLike} (wrap it in `KvStore`). The pool
 * reconnects by itself after the server restarts.
 *
 * @param options URL, password and pool size.
 * @returns The open database; `close()` ends the pool.
 * @throws {KernelError} `STORE_UNAVAILABLE` when the server cannot be reached
 * or refuses us; `CONFIG_INVALID` for a URL that is not `postgres://` or that
 * carries a password.
 *
 * @example Open a store on PostgreSQL
 * ```ts ignore
 * import { openPg } from "./open_pg.ts";
 * import { KvStore } from "../store/kv_store.ts";
 * const store = new KvStore(await openPg({ url: "postgres://astrid@/astrid?host=/run/postgresql" }));
 * await store.set(["demo", "k"], 1);
 * await store.close();
 * ```
 */
export async function openPg(options: OpenPgOptions): Promise<KvLike> {
  const url = checkUrl(options.url);
  // libpq's `?host=/dir` names a unix socket directory; the client takes it apart.
  const socketDir = url.searchParams.get("host");
  url.searchParams.delete("host");
  const secret = options.password;
  // Loaded when a store is on PostgreSQL: a kernel on Deno KV (and the CLI)
  // does not parse the client at start.
  const { default: pg } = await import("postgres");
  const sql = pg(url.href, {
    ...(socketDir === null ? {} : { host: socketDir }),
    ...(secret === undefined ? {} : { password: secret }),
    max: options.maxConnections ?? 4,
    connect_timeout: options.connectTimeoutSecs ?? 10,
    // Retry a lost server quickly: the client's default backoff grows to
    // 20 s, which would keep a restarted server unused that long.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    onnotice: () => {},
    prepare: true,
    // int8 (commit numbers) as bigint, never a lossy number.
    types: { bigint: pg.BigInt },
  });
  try {
    // One statement (a DO block is one transaction): nothing for the client
    // to roll back if the connection drops.
    await sql.unsafe(SCHEMA);
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw pgError(err, "open the store on PostgreSQL", secret);
  }
  return new PgKv(sql, secret);
}

class PgKv implements KvLike {
  #sql: Sql;
  #secret: string | undefined;

  constructor(sql: Sql, secret: string | undefined) {
    this.#sql = sql;
    this.#secret = secret;
  }

  async get(key: KvLikeKey): Promise<KvLikeEntry> {
    const [entry] = await this.getMany([key]);
    return entry!;
  }

  async getMany(keys: readonly KvLikeKey[]): Promise<readonly KvLikeEntry[]> {
    const encoded = keys.map((k) => encodeKey(k as StoreKey));
    let rows: readonly Row[];
    try {
      // One statement: one snapshot.
      rows = await this.#sql<Row[]>`SELECT k, v, vs FROM astrid_store
        WHERE k IN ${this.#sql(encoded)}`;
    } catch (err) {
      throw pgError(err, "read from PostgreSQL", this.#secret);
    }
    const found = new Map(rows.map((r) => [hex(r.k), r]));
    return keys.map((key, i) => {
      const row = found.get(hex(encoded[i]!));
      return row
        ? { key, value: bytes(row.v), versionstamp: versionstampOf(row.vs) }
        : { key, value: null, versionstamp: null };
    });
  }

  list(
    selector: KvLikeSelector,
    options: KvLikeListOptions = {},
  ): AsyncIterableIterator<KvLikeEntry> {
    // Bounds as [lower, lowerInclusive] and an exclusive upper bound.
    let lower: Uint8Array;
    let lowerIncl: boolean;
    let upper: Uint8Array;
    if ("prefix" in selector) {
      const p = encodeKey(selector.prefix as StoreKey);
      [lower, lowerIncl] = "start" in selector
        ? [encodeKey(selector.start as StoreKey), true]
        : [p, false];
      upper = "end" in selector
        ? encodeKey(selector.end as StoreKey)
        : concat(p, 0xff);
    } else {
      [lower, lowerIncl] = [encodeKey(selector.start as StoreKey), true];
      upper = encodeKey(selector.end as StoreKey);
    }
    return this.#pages(lower, lowerIncl, upper, options);
  }

  async *#pages(
    lower: Uint8Array,
    lowerIncl: boolean,
    upper: Uint8Array,
    options: KvLikeListOptions,
  ): AsyncGenerator<KvLikeEntry> {
    const sql = this.#sql;
    let left = options.limit ?? Infinity;
    const reverse = options.reverse === true;
    while (left > 0) {
      const n = Math.min(PAGE, left);
      let rows: readonly Row[];
      try {
        const lo = lowerIncl ? sql`k >= ${lower}` : sql`k > ${lower}`;
        const hi = sql`k < ${upper}`;
        rows = reverse
          ? await sql<Row[]>`SELECT k, v, vs FROM astrid_store
              WHERE ${lo} AND ${hi} ORDER BY k DESC LIMIT ${n}`
          : await sql<Row[]>`SELECT k, v, vs FROM astrid_store
              WHERE ${lo} AND ${hi} ORDER BY k ASC LIMIT ${n}`;
      } catch (err) {
        throw pgError(err, "list from PostgreSQL", this.#secret);
      }
      for (const r of rows) {
        yield {
          key: decodeKey(r.k),
          value: bytes(r.v),
          versionstamp: versionstampOf(r.vs),
        };
      }
      left -= rows.length;
      if (rows.length < n) return;
      const last = rows[rows.length - 1]!.k;
      if (reverse) upper = last;
      else [lower, lowerIncl] = [last, false];
    }
  }

  atomic(): KvLikeAtomic {
    return new PgAtomic(this.#sql, this.#secret);
  }

  close(): Promise<void> {
    return this.#sql.end({ timeout: 5 });
  }
}

interface Row {
  readonly k: Uint8Array;
  readonly v: Uint8Array;
  readonly vs: bigint;
}

function checkUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KernelError(
      "CONFIG_INVALID",
      "Cannot open the store as store.url is not a URL",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new KernelError(
      "CONFIG_INVALID",
      `Cannot open the store as store.url has scheme ${parsed.protocol} (expected postgres:)`,
    );
  }
  if (parsed.password !== "") {
    throw new KernelError(
      "CONFIG_INVALID",
      "Cannot open the store as store.url carries a password; pass it apart (ASTRID_STORE_PASSWORD)",
    );
  }
  return parsed;
}

function bytes(v: Uint8Array): Uint8Array {
  return new Uint8Array(v);
}

function concat(a: Uint8Array, byte: number): Uint8Array {
  const out = new Uint8Array(a.length + 1);
  out.set(a);
  out[a.length] = byte;
  return out;
}

export { versionstampOf };
