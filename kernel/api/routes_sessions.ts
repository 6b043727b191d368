/**
 * API routes: sessions, prompts, approvals and workspaces, served by the
 * {@linkcode SessionHub}. Answers:
 *
 * - `GET /v1/sessions` → `SessionInfo[]` (newest first);
 *   `POST /v1/sessions` → `SessionInfo` (201); `GET /v1/sessions/:id` →
 *   `SessionInfo`; `DELETE /v1/sessions/:id` → `{deleted: id}`;
 *   `GET /v1/sessions/:id/messages` → `Message[]`.
 * - `POST /v1/sessions/:id/prompt` → an SSE stream: `turn_start`, the turn
 *   events, then `final` or `error`. Closing the stream does NOT cancel the
 *   turn (it runs on; its approvals stay answerable through
 *   `/v1/approvals` and `/events`): only `POST /v1/sessions/:id/cancel`
 *   (→ `{cancelled: id}`) does.
 * - `GET /v1/sessions/:id/budget` → `SessionBudget` (spent by the session
 *   and in its workspace, and the limits).
 * - `GET /v1/sessions/:id/events` → an SSE stream of the session's events
 *   (every turn's events, a commit's approval requests and answers), until
 *   the client goes away.
 * - `GET /v1/approvals[?session=<id>]` → `ApprovalInfo[]` (pending and
 *   deferred); `POST /v1/approvals/:id` with `{decision, reason?}` →
 *   `{answered: id}` (the answer is audited with the caller, and with
 *   `on_behalf_of` — the person's client — when a console relays it).
 * - `GET /v1/sessions/:id/workspace/diff` → `WorkspaceChange[]`;
 *   `POST …/workspace/commit` → `{committed: string[]}` (gated: its approval
 *   requests wait in `/v1/approvals` until a client answers);
 *   `POST …/workspace/discard` → `{discarded: string[]}`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { ApiDeps } from "./api.ts";
import type { ApprovalAnswer } from "../../sdk/turn.ts";
import { jsonResponse, sseResponse, stringField } from "./router.ts";
import type { RouteContext, Router } from "./router.ts";
import type { ApiCaller } from "./session_hub.ts";
import type { AnswerOrigin, SessionBudget } from "./contract.ts";
import type { SessionId } from "../core/ids.ts";
import { MICROS_PER_USD } from "../security/budget.ts";

const DECISIONS: readonly ApprovalAnswer[] = [
  "allow_once",
  "allow_session",
  "allow_workspace",
  "allow_always",
  "deny",
];

/** The most paths one commit or discard names. */
const MAX_PATHS = 10_000;
/** The longest path accepted. */
const MAX_PATH_LENGTH = 4_096;
/** A provider name: one topic segment. */
const PROVIDER = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** The longest model id or reason accepted. */
const MAX_SHORT = 1_024;

function bad(message: string): KernelError {
  return new KernelError("API_BAD_REQUEST", message);
}

function optionalString(
  body: Record<string, unknown>,
  name: string,
): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "" || v.length > MAX_SHORT) {
    throw bad(
      `The field '${name}' must be a non-empty string of at most ${MAX_SHORT} characters`,
    );
  }
  return v;
}

function pathsField(
  body: Record<string, unknown>,
): readonly string[] | undefined {
  const v = body["paths"];
  if (v === undefined) return undefined;
  if (
    !Array.isArray(v) || v.length > MAX_PATHS ||
    !v.every((p) =>
      typeof p === "string" && p !== "" && p.length <= MAX_PATH_LENGTH
    )
  ) {
    throw bad(
      `The field 'paths' must be an array of at most ${MAX_PATHS} non-empty workspace-relative paths`,
    );
  }
  return v as string[];
}

/** A relaying client's name: `web`, … */
const VIA = /^[a-z][a-z0-9_-]{0,31}$/;
/** The longest relayed address accepted. */
const MAX_ADDRESS = 256;

function originField(
  body: Record<string, unknown>,
): AnswerOrigin | undefined {
  const v = body["on_behalf_of"];
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  const ok = v !== null && typeof v === "object" && !Array.isArray(v) &&
    typeof o["via"] === "string" && VIA.test(o["via"]) &&
    (o["address"] === undefined ||
      (typeof o["address"] === "string" && o["address"].length > 0 &&
        o["address"].length <= MAX_ADDRESS)) &&
    Object.keys(o).every((k) => k === "via" || k === "address");
  if (!ok) {
    throw bad(
      `The field 'on_behalf_of' must be {via: [a-z0-9_-]{1,32}, address?: string of at most ${MAX_ADDRESS}}`,
    );
  }
  return {
    via: o["via"] as string,
    ...(o["address"] ? { address: o["address"] as string } : {}),
  };
}

function decisionField(body: Record<string, unknown>): ApprovalAnswer {
  const v = body["decision"];
  if (!DECISIONS.includes(v as ApprovalAnswer)) {
    throw bad(`The field 'decision' must be one of ${DECISIONS.join(", ")}`);
  }
  return v as ApprovalAnswer;
}

/**
 * Registers the sessions routes.
 *
 * @param router The router.
 * @param deps What the routes work on.
 */
export function sessionRoutes(router: Router, deps: ApiDeps): void {
  const hub = deps.hub;
  const caller = (ctx: RouteContext): ApiCaller => ({
    via: deps.mode,
    ...(ctx.remoteAddress ? { address: ctx.remoteAddress } : {}),
  });
  const id = (ctx: RouteContext) => ctx.params["id"]!;

  router
    .on("sessionsList", async () => jsonResponse(await hub.list()))
    .on("sessionsCreate", async (ctx) => {
      const body = await ctx.json();
      const workspace = stringField(body, "workspace");
      if (!workspace.startsWith("/")) {
        throw bad("The field 'workspace' must be an absolute path");
      }
      return jsonResponse(await hub.create({ workspace }), 201);
    })
    .on("sessionsShow", async (ctx) => jsonResponse(await hub.get(id(ctx))))
    .on("sessionsDelete", async (ctx) => {
      await hub.delete(id(ctx));
      return jsonResponse({ deleted: id(ctx) });
    })
    .on(
      "sessionMessages",
      async (ctx) => jsonResponse(await hub.messages(id(ctx))),
    )
    .on("sessionPrompt", async (ctx) => {
      const body = await ctx.json();
      const text = stringField(body, "text");
      const provider = optionalString(body, "provider");
      if (provider !== undefined && !PROVIDER.test(provider)) {
        throw bad(
          "The field 'provider' must be a provider name ([a-z0-9_-], at most 64)",
        );
      }
      const model = optionalString(body, "model");
      // The stream's own signal only detaches this reader: closing the
      // stream leaves the turn running (POST /cancel stops it).
      const detach = new AbortController();
      const events = await hub.prompt(id(ctx), {
        text,
        ...(provider ? { provider } : {}),
        ...(model ? { model } : {}),
      }, detach.signal);
      return sseResponse(events, () => detach.abort());
    })
    .on("sessionBudget", async (ctx) => {
      const s = await hub.get(id(ctx));
      const snap = await deps.kernel.security.budget.snapshot({
        principal: deps.kernel.principal,
        session: s.id as SessionId,
        workspace: s.workspace,
        callId: "api-budget",
      });
      const usd = (micros: number) => micros / MICROS_PER_USD;
      const l = snap.limits;
      const body: SessionBudget = {
        session: s.id,
        workspace: s.workspace,
        session_spent_usd: usd(snap.sessionSpentMicros),
        workspace_spent_usd: usd(snap.workspaceSpentMicros),
        limits: {
          per_action_max_usd: usd(l.perActionMicros),
          session_max_usd: usd(l.sessionMaxMicros),
          workspace_max_usd: l.workspaceMaxMicros === null
            ? null
            : usd(l.workspaceMaxMicros),
          warn_at_percent: l.warnAtPercent,
        },
      };
      return jsonResponse(body);
    })
    .on("sessionCancel", async (ctx) => {
      await hub.cancel(id(ctx));
      return jsonResponse({ cancelled: id(ctx) });
    })
    .on("sessionEvents", async (ctx) => {
      await hub.get(id(ctx)); // NOT_FOUND before the stream starts
      const detach = new AbortController();
      return sseResponse(
        hub.events(id(ctx), detach.signal),
        () => detach.abort(),
      );
    })
    .on("approvalsList", async (ctx) => {
      const session = ctx.url.searchParams.get("session");
      return jsonResponse(
        await hub.approvals(
          session === null || session === "" ? undefined : session,
        ),
      );
    })
    .on("approvalsAnswer", async (ctx) => {
      const body = await ctx.json();
      const decision = decisionField(body);
      const reason = optionalString(body, "reason");
      const origin = originField(body);
      await hub.answer(
        id(ctx),
        { decision, ...(reason ? { reason } : {}) },
        { ...caller(ctx), ...(origin ? { on_behalf_of: origin } : {}) },
      );
      return jsonResponse({ answered: id(ctx) });
    })
    .on(
      "workspaceDiff",
      async (ctx) => jsonResponse(await hub.diff(id(ctx))),
    )
    .on("workspaceCommit", async (ctx) => {
      const paths = pathsField(await ctx.json());
      return jsonResponse({ committed: await hub.commit(id(ctx), paths) });
    })
    .on("workspaceDiscard", async (ctx) => {
      const paths = pathsField(await ctx.json());
      return jsonResponse({ discarded: await hub.discard(id(ctx), paths) });
    });
}
