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
import postgres from "postgres";
import { KernelError } from "../core/errors.ts";
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
  const sql = postgres(url.href, {
    ...(socketDir === null ? {} : { host: socketDir }),
    ...(secret === undefined ? {} : { password: secret }),
    max: options.maxConnections ?? 4,
    connect_timeout: options.connectTimeoutSecs ?? 10,
    onnotice: () => {},
    prepare: true,
    // int8 (commit numbers) as bigint, never a lossy number.
    types: { bigint: postgres.BigInt },
  });
  try {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;
      await tx`CREATE TABLE IF NOT EXISTS astrid_store (
        k bytea PRIMARY KEY, v bytea NOT NULL, vs bigint NOT NULL)`;
      await tx`CREATE TABLE IF NOT EXISTS astrid_store_clock (
        id int PRIMARY KEY CHECK (id = 1), vs bigint NOT NULL)`;
      await tx`INSERT INTO astrid_store_clock VALUES (1, 0)
        ON CONFLICT (id) DO NOTHING`;
      await tx.unsafe(COMMIT_FUNCTION);
    });
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw pgError(err, "open the store on PostgreSQL", secret);
  }
  return new PgKv(sql, secret);
}

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

/** The SQLSTATE `astrid_store_commit` raises when a check fails. */
const CHECK_FAILED = "AS001";

/**
 * The commit, run as one statement. Taking the clock row's lock first
 * serialises commits; each later statement of a PL/pgSQL function reads a
 * fresh snapshot, so the checks see every commit before this one. A failed
 * check raises, which rolls back the clock too. Versionstamps arrive as
 * their 20-hex-digit text (`""` = must be absent), keys and values as hex.
 */
const COMMIT_FUNCTION = `CREATE OR REPLACE FUNCTION astrid_store_commit(
  ck text[], cv text[], sk text[], sv text[], dk text[]) RETURNS bigint
LANGUAGE plpgsql AS $$
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
END $$`;

class PgAtomic implements KvLikeAtomic {
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
 * Maps a client or server error to `STORE_UNAVAILABLE`, naming only its code:
 * never the URL, the password, a host path or the original error as `cause`.
 */
function pgError(
  err: unknown,
  what: string,
  secret: string | undefined,
  outcome?: string,
): KernelError {
  if (err instanceof KernelError) return err;
  const state = sqlState(err);
  const code = (err as { code?: unknown } | null)?.code;
  const why = state !== undefined
    ? `the server answered SQLSTATE ${state}${serverMessage(err, secret)}`
    : typeof code === "string"
    ? `the connection failed (${code})`
    : "the client failed";
  return new KernelError(
    "STORE_UNAVAILABLE",
    `Cannot ${what} as ${why}${outcome ? `; ${outcome}` : ""}`,
    { data: { backend: "postgres", ...(outcome ? { outcome } : {}) } },
  );
}

function sqlState(err: unknown): string | undefined {
  if (
    err instanceof Error && err.name === "PostgresError" &&
    typeof (err as { code?: unknown }).code === "string"
  ) {
    return (err as unknown as { code: string }).code;
  }
  return undefined;
}

/** The server's message (it never holds a password), with any echo of it removed. */
function serverMessage(err: unknown, secret: string | undefined): string {
  const text = err instanceof Error ? err.message : "";
  const safe = secret ? text.split(secret).join("***") : text;
  return safe ? ` (${safe.replace(/\/[^\s"']+/g, "<path>")})` : "";
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

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}
