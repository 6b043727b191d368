/**
 * The kernel side of Deno's permission broker: a unix socket that answers
 * every permission check of one MCP subprocess (started with
 * `DENO_PERMISSION_BROKER_PATH=<socket>`).
 *
 * Wire protocol (Deno 2.9.6, experimental): per check the child sends one
 * JSON line `{"v":1,"pid":…,"id":…,"datetime":"…","permission":"read","value":"/abs"}`
 * and blocks until it reads one line `{"id":…,"result":"allow"}` or
 * `{"id":…,"result":"deny","reason":"…"}`.
 *
 * Security model: the socket is `0600` and belongs to one subprocess; the
 * first connection is served and any later one is closed at once. Lines are
 * parsed strictly (exact keys, `v` 1, increasing integer ids, a known
 * permission, one pid per connection, at most 64 KiB); anything else closes
 * the connection, which makes Deno end the child — fail closed. A `decide`
 * function that throws answers `deny`. Requests are answered one at a time in
 * arrival order.
 *
 * @module
 */
import type { Logger, Net, StreamConn } from "../../../core/ports.ts";
import type { DenoPermission } from "../../../security/action.ts";

/** One permission check, as the child asked it. */
export interface BrokerRequest {
  /** The Deno permission, e.g. `read`, `net`, `env`. */
  readonly permission: DenoPermission;
  /** Its value (`/abs/path`, `host:port`, a variable name), or `null` for "everything". */
  readonly value: string | null;
}

/** The answer to one {@linkcode BrokerRequest}. */
export type BrokerVerdict =
  | { readonly allow: true }
  | { readonly allow: false; readonly reason: string };

/** Decides one permission check. */
export type BrokerDecide = (req: BrokerRequest) => Promise<BrokerVerdict>;

/** Counters of a running broker. */
export interface BrokerStats {
  /** Connections served (0 or 1). */
  connections: number;
  /** Connections refused because one was already served. */
  refusedConnections: number;
  /** Requests answered `allow`. */
  allowed: number;
  /** Requests answered `deny`. */
  denied: number;
  /** Connections closed because of a malformed line. */
  malformed: number;
  /** The child's pid, once it sent a request. */
  pid: number | null;
}

/** Options of {@linkcode startPermissionBroker}. */
export interface PermissionBrokerOptions {
  /** Where to create the socket (in a `0700` directory). */
  socketPath: string;
  /** Decides each request. */
  decide: BrokerDecide;
  /** The network port that listens on the socket. */
  net: Net;
  /** Receives malformed lines, refused connections and decide failures. */
  logger: Logger;
  /** Aborting closes the broker (and thus ends the child). */
  signal?: AbortSignal;
}

/** A running broker. */
export interface PermissionBroker {
  /** The socket path to pass as `DENO_PERMISSION_BROKER_PATH`. */
  readonly path: string;
  /** Live counters. */
  readonly stats: Readonly<BrokerStats>;
  /** Closes the connection and the socket; the child then ends. */
  close(): Promise<void>;
}

const MAX_LINE_BYTES = 64 * 1024;
const PERMISSIONS: ReadonlySet<string> = new Set<DenoPermission>([
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
]);
const KEYS = ["datetime", "id", "permission", "pid", "v", "value"].join();

/**
 * Starts a permission broker on a fresh unix socket.
 *
 * @param options Socket path, decision function, ports, signal.
 * @returns The running broker; it listens before this resolves.
 * @throws {KernelError} `HOST_IO` when the socket cannot be created (e.g. the
 * path exists), `HOST_PERMISSION_DENIED`, `NOT_FOUND` (missing directory),
 * `ABORTED`.
 *
 * @example Answer every check with deny
 * ```ts
 * import assert from "node:assert/strict";
 * import { startPermissionBroker } from "./permission_broker.ts";
 * import { createDenoNet } from "../../../host/deno_net.ts";
 * import { MemoryLogger } from "../../../testing/memory_logger.ts";
 * const dir = await Deno.makeTempDir();
 * const logger = new MemoryLogger();
 * const broker = await startPermissionBroker({
 *   socketPath: `${dir}/broker.sock`,
 *   decide: () => Promise.resolve({ allow: false, reason: "not granted" }),
 *   net: createDenoNet({ logger }),
 *   logger,
 * });
 * // Start the child with env DENO_PERMISSION_BROKER_PATH = broker.path.
 * assert.equal(broker.stats.connections, 0);
 * await broker.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function startPermissionBroker(
  options: PermissionBrokerOptions,
): Promise<PermissionBroker> {
  const { decide, logger } = options;
  const listener = await options.net.listenUnix(
    options.socketPath,
    options.signal === undefined ? {} : { signal: options.signal },
  );
  const stats: BrokerStats = {
    connections: 0,
    refusedConnections: 0,
    allowed: 0,
    denied: 0,
    malformed: 0,
    pid: null,
  };
  const path = listener.path;
  const conns = new Set<StreamConn>();
  const serving = new Set<Promise<void>>();
  const acceptLoop = (async () => {
    for await (const conn of listener.accept()) {
      if (stats.connections > 0) {
        stats.refusedConnections++;
        logger.log("warn", "Permission broker refused a second connection", {
          path,
        });
        conn.close();
        continue;
      }
      stats.connections++;
      conns.add(conn);
      const p = serve(conn, { decide, logger, stats, path }).catch(
        (error: unknown) =>
          logger.log("error", "Permission broker connection failed", {
            path,
            error,
          }),
      ).finally(() => {
        conn.close();
        conns.delete(conn);
      });
      serving.add(p);
    }
  })();
  const close = async (): Promise<void> => {
    for (const c of conns) c.close();
    await listener.close();
    await acceptLoop;
    await Promise.all(serving);
  };
  options.signal?.addEventListener("abort", () => {
    close().catch((error: unknown) =>
      logger.log("error", "Closing the permission broker failed", {
        path,
        error,
      })
    );
  }, { once: true });
  return { path, stats, close };
}

interface ServeCtx {
  decide: BrokerDecide;
  logger: Logger;
  stats: BrokerStats;
  path: string;
}

async function serve(conn: StreamConn, ctx: ServeCtx): Promise<void> {
  const writer = conn.writable.getWriter();
  const encoder = new TextEncoder();
  let lastId = 0;
  try {
    for await (const line of readLines(conn.readable)) {
      const req = line === null ? null : parseRequest(line);
      const bad = line === null
        ? "line too long or not UTF-8"
        : req === null
        ? "line is not a valid request"
        : req.id <= lastId
        ? `id ${req.id} does not follow ${lastId}`
        : ctx.stats.pid !== null && req.pid !== ctx.stats.pid
        ? `pid ${req.pid} differs from ${ctx.stats.pid}`
        : null;
      if (req === null || bad !== null) {
        ctx.stats.malformed++;
        ctx.logger.log("error", "Permission broker closed a connection", {
          path: ctx.path,
          reason: bad,
          line: line?.slice(0, 200) ?? null,
        });
        return;
      }
      lastId = req.id;
      ctx.stats.pid = req.pid;
      const verdict = await decideSafely(ctx, req);
      if (verdict.allow) ctx.stats.allowed++;
      else ctx.stats.denied++;
      const reply = verdict.allow
        ? { id: req.id, result: "allow" }
        : { id: req.id, result: "deny", reason: verdict.reason };
      await writer.write(encoder.encode(JSON.stringify(reply) + "\n"));
    }
  } finally {
    writer.releaseLock();
  }
}

async function decideSafely(
  ctx: ServeCtx,
  req: BrokerRequest,
): Promise<BrokerVerdict> {
  try {
    return await ctx.decide({ permission: req.permission, value: req.value });
  } catch (error) {
    ctx.logger.log("error", "Permission broker decision failed; denying", {
      path: ctx.path,
      permission: req.permission,
      error,
    });
    return { allow: false, reason: "broker decision failed" };
  }
}

interface WireRequest extends BrokerRequest {
  readonly id: number;
  readonly pid: number;
}

function parseRequest(line: string): WireRequest | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null; // silent-ok: the caller logs and closes on null
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return null;
  }
  const r = raw as Record<string, unknown>;
  const ok = Object.keys(r).sort().join() === KEYS && r.v === 1 &&
    Number.isSafeInteger(r.id) && (r.id as number) > 0 &&
    Number.isSafeInteger(r.pid) && (r.pid as number) > 0 &&
    typeof r.datetime === "string" && typeof r.permission === "string" &&
    PERMISSIONS.has(r.permission) &&
    (r.value === null || typeof r.value === "string");
  return ok
    ? {
      id: r.id as number,
      pid: r.pid as number,
      permission: r.permission as DenoPermission,
      value: r.value as string | null,
    }
    : null;
}

/** Yields each newline-terminated line, or `null` once a line exceeds the cap. */
async function* readLines(
  readable: ReadableStream<Uint8Array>,
): AsyncGenerator<string | null> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = new Uint8Array(0);
  for await (const chunk of readable) {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let start = 0;
    let nl: number;
    while ((nl = joined.indexOf(10, start)) !== -1) {
      let text: string;
      try {
        text = decoder.decode(joined.subarray(start, nl));
      } catch {
        yield null; // silent-ok: invalid UTF-8 is reported as a bad line
        return;
      }
      yield text;
      start = nl + 1;
    }
    pending = joined.slice(start);
    if (pending.length > MAX_LINE_BYTES) {
      yield null;
      return;
    }
  }
}
