/**
 * The audit routes of the admin API: list (filtered, newest first), show,
 * verify, export (JSON lines, streamed) and stats — all on the chain of the
 * principal the daemon serves.
 *
 * Security model: every query parameter is validated (unknown ones are
 * refused) before it reaches the store; list, show and export return entries
 * as stored — `verify` is what makes them trustworthy, and an export is
 * verified again offline by whoever holds the public key.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { CapsuleId, SessionId } from "../core/ids.ts";
import { parseCapsuleId, parseSessionId } from "../core/ids.ts";
import { AUDIT_DECISIONS } from "../audit/audit_entry.ts";
import type { AuditDecision, AuditEntry } from "../audit/audit_entry.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import type {
  AuditListBody,
  AuditStatsBody,
  AuditVerifyBody,
  ChainVerifyReport,
} from "./contract_admin.ts";
import { jsonResponse, type RouteContext } from "./router.ts";

/** Entries `GET /v1/audit` returns without `limit`. */
export const DEFAULT_AUDIT_LIMIT = 50;
/** The largest `limit`. */
export const MAX_AUDIT_LIMIT = 1_000;
/** With an `action` filter: how many entries (newest first) are searched. */
export const ACTION_SCAN = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACTION = /^[a-z][a-z0-9_]{0,63}$/;

function bad(message: string): KernelError {
  return new KernelError("API_BAD_REQUEST", message);
}

/** The validated filters of `GET /v1/audit`. */
export interface AuditListQuery {
  readonly session?: SessionId;
  readonly capsule?: CapsuleId;
  readonly action?: string;
  readonly decision?: AuditDecision;
  readonly limit: number;
}

/**
 * Validates the query of `GET /v1/audit`.
 *
 * @param params The URL's search parameters.
 * @returns The filters.
 * @throws {KernelError} `API_BAD_REQUEST` naming the bad parameter.
 */
export function parseAuditListQuery(params: URLSearchParams): AuditListQuery {
  const allowed = ["session", "capsule", "action", "decision", "limit"];
  for (const key of params.keys()) {
    if (!allowed.includes(key)) {
      throw bad(`Unknown query parameter '${key.slice(0, 64)}'`);
    }
    if (params.getAll(key).length > 1) {
      throw bad(`The query parameter '${key}' is given twice`);
    }
  }
  const get = (k: string) => params.get(k) ?? undefined;
  const out: {
    -readonly [K in keyof AuditListQuery]: AuditListQuery[K];
  } = { limit: DEFAULT_AUDIT_LIMIT };
  const session = get("session");
  if (session !== undefined) {
    try {
      out.session = parseSessionId(session);
    } catch {
      throw bad("The query parameter 'session' must be a session id (a UUID)");
    }
  }
  const capsule = get("capsule");
  if (capsule !== undefined) {
    try {
      out.capsule = parseCapsuleId(capsule);
    } catch {
      throw bad("The query parameter 'capsule' must be a capsule name");
    }
  }
  const action = get("action");
  if (action !== undefined) {
    if (!ACTION.test(action)) {
      throw bad(
        "The query parameter 'action' must be an action type such as fs_write",
      );
    }
    out.action = action;
  }
  const decision = get("decision");
  if (decision !== undefined) {
    if (!(AUDIT_DECISIONS as readonly string[]).includes(decision)) {
      throw bad(
        `The query parameter 'decision' must be one of ${
          AUDIT_DECISIONS.join(", ")
        }`,
      );
    }
    out.decision = decision as AuditDecision;
  }
  const limit = get("limit");
  if (limit !== undefined) {
    const n = /^[0-9]{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_AUDIT_LIMIT)) {
      throw bad(
        `The query parameter 'limit' must be an integer from 1 to ${MAX_AUDIT_LIMIT}`,
      );
    }
    out.limit = n;
  }
  return out;
}

function actionType(e: AuditEntry): string {
  const a = e.action as { type?: unknown } | null;
  return a !== null && typeof a === "object" && typeof a.type === "string"
    ? a.type
    : "(none)";
}

function noParams(ctx: RouteContext): void {
  const first = ctx.url.searchParams.keys().next();
  if (!first.done) {
    throw bad(`Unknown query parameter '${first.value.slice(0, 64)}'`);
  }
}

/** The audit route handlers of one API. */
export interface AuditHandlers {
  list(ctx: RouteContext): Promise<Response>;
  show(ctx: RouteContext): Promise<Response>;
  verify(ctx: RouteContext): Promise<Response>;
  exportJsonl(ctx: RouteContext): Response;
  stats(ctx: RouteContext): Promise<Response>;
}

/**
 * Builds the audit handlers.
 *
 * @param kernel The kernel (its audit log and principal).
 * @returns The handlers.
 */
export function auditHandlers(kernel: KernelHandle): AuditHandlers {
  const audit = kernel.security.audit;
  const principal = kernel.principal;
  return {
    async list(ctx) {
      const q = parseAuditListQuery(ctx.url.searchParams);
      const found = await audit.query({
        principal,
        ...(q.session ? { session: q.session } : {}),
        ...(q.capsule ? { capsule: q.capsule } : {}),
        ...(q.decision ? { decision: q.decision } : {}),
        limit: q.action === undefined ? q.limit : ACTION_SCAN,
        reverse: true,
        signal: ctx.signal,
      });
      const entries = q.action === undefined
        ? found
        : found.filter((e) => actionType(e) === q.action).slice(0, q.limit);
      const body: AuditListBody = { entries };
      return jsonResponse(body);
    },

    async show(ctx) {
      noParams(ctx);
      const id = ctx.params["id"] ?? "";
      if (!UUID.test(id)) {
        throw bad("An audit entry id is a lower-case UUID");
      }
      const entry = await audit.get(principal, id);
      if (entry === null) {
        throw new KernelError("NOT_FOUND", `No audit entry ${id}`);
      }
      return jsonResponse(entry);
    },

    async verify(ctx) {
      noParams(ctx);
      const result = await audit.verify(principal, { signal: ctx.signal });
      const chain: ChainVerifyReport = {
        principal,
        valid: result.valid,
        entries_verified: result.entriesVerified,
        ...(result.firstBad ? { first_bad: result.firstBad } : {}),
      };
      const body: AuditVerifyBody = { ok: chain.valid, chains: [chain] };
      return jsonResponse(body);
    },

    exportJsonl(ctx) {
      noParams(ctx);
      const encoder = new TextEncoder();
      const lines = audit.exportJsonl(principal, { signal: ctx.signal })[
        Symbol.asyncIterator
      ]();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await lines.next();
            if (next.done) controller.close();
            else controller.enqueue(encoder.encode(`${next.value}\n`));
          } catch (err) {
            // The status is sent: a cut stream (no final newline) tells the
            // reader the export is incomplete; its verifier reports it.
            controller.error(err);
          }
        },
        async cancel() {
          await lines.return?.();
        },
      });
      return new Response(body, {
        headers: {
          "content-type": "application/x-ndjson",
          "cache-control": "no-store",
        },
      });
    },

    async stats(ctx) {
      noParams(ctx);
      const decisions: Record<string, number> = {};
      const actions: Record<string, number> = {};
      let entries = 0;
      let first: number | null = null;
      let last: number | null = null;
      for await (
        const line of audit.exportJsonl(principal, { signal: ctx.signal })
      ) {
        const e = JSON.parse(line) as AuditEntry;
        entries++;
        decisions[e.decision] = (decisions[e.decision] ?? 0) + 1;
        const type = actionType(e);
        actions[type] = (actions[type] ?? 0) + 1;
        first = first === null ? e.timestamp : Math.min(first, e.timestamp);
        last = last === null ? e.timestamp : Math.max(last, e.timestamp);
      }
      const body: AuditStatsBody = {
        principal,
        entries,
        decisions,
        actions,
        first_at: first,
        last_at: last,
      };
      return jsonResponse(body);
    },
  };
}
