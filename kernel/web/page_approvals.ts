/**
 * Pages: approval requests waiting for a human — pending (a turn or a
 * commit waits now) and deferred (nobody answered in time; answering
 * re-runs the gate) — with the action, resource, risk and reason, answered
 * with the same five answers as the CLI. Each answer is relayed with
 * `on_behalf_of: {via: "web", address}` and audited by the daemon.
 *
 * @module
 */
import type { ApprovalAnswer } from "../../sdk/turn.ts";
import type { ApprovalInfo } from "../api/contract.ts";
import { KernelError } from "../core/errors.ts";
import { html } from "./html.ts";
import type { Html } from "./html.ts";
import { htmlResponse, redirect } from "./http.ts";
import { csrfField, layout, when } from "./layout.ts";
import type { PageContext } from "./page_context.ts";

/** The answers in plain words (the CLI's five). */
export const ANSWER_LABELS: Readonly<Record<ApprovalAnswer, string>> = {
  allow_once: "Allow once",
  allow_session: "Allow for this session",
  allow_workspace: "Allow in this workspace",
  allow_always: "Always allow",
  deny: "Deny",
};

/**
 * One request with its answer buttons.
 *
 * @param ctx The page.
 * @param a The request.
 * @param back Where to go after answering: `approvals` or `session:<id>`.
 * @returns The card.
 */
export function approvalCard(
  ctx: PageContext,
  a: ApprovalInfo,
  back: string,
): Html {
  const b = ctx.shell.base;
  return html`<div class="approval risk-${a.risk}" data-request="${a.request_id}">
<strong>${a.summary}</strong>
<div><span class="tag">${a.kind}</span> <span class="tag">risk: ${a.risk}</span> <span class="tag">${a.action}</span></div>
<div class="resource">${a.resource}</div>
${a.reason ? html`<div class="muted">Reason: ${a.reason}</div>` : ""}
<div class="muted">Session <a href="${b}sessions/${
    encodeURIComponent(a.session)
  }">${a.session}</a> · asked ${when(a.created_at)}</div>
<form method="post" action="${b}approvals/${
    encodeURIComponent(a.request_id)
  }">${csrfField(ctx.shell)}<input type="hidden" name="back" value="${back}">
<div class="buttons">${
    a.options.map((o) =>
      html`
        <button type="submit" name="decision" value="${o}"
          class="${o === "deny" ? "deny" : "allow"}">${ANSWER_LABELS[o] ??
            o}</button>
      `
    )
  }</div></form></div>`;
}

/** `GET approvals[?session=]`. */
export async function list(ctx: PageContext): Promise<Response> {
  const session = ctx.url.searchParams.get("session") ?? undefined;
  const all = await ctx.api.call<ApprovalInfo[]>("approvalsList", {
    query: { session: session || undefined },
  });
  const pending = all.filter((a) => a.kind === "pending");
  const deferred = all.filter((a) => a.kind === "deferred");
  const section = (title: string, items: ApprovalInfo[], none: string) =>
    html`<h2>${title} (${items.length})</h2>${
      items.length === 0
        ? html`<p class="muted">${none}</p>`
        : items.map((a) => approvalCard(ctx, a, "approvals"))
    }`;
  return htmlResponse(layout(ctx.shell, {
    title: "Approvals",
    current: "approvals",
    flash: ctx.flash,
    content: html`
      ${session
        ? html`
          <p
            class="muted">Session ${session} · <a href="${ctx.shell
              .base}approvals">all sessions</a></p>
        `
        : ""}
      ${section("Pending", pending, "Nothing waits for you now.")}
      ${section(
        "Deferred",
        deferred,
        "No deferred requests. (A request nobody answered in time lands here; answering it re-runs the gate.)",
      )}
      <p
        class="muted">Every answer is recorded in the audit log with who answered and from where.</p>
    `,
  }));
}

/** `POST approvals/:id`: answers a request. */
export async function answer(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  const decision = ctx.form.get("decision") ?? "";
  if (!(decision in ANSWER_LABELS)) {
    throw new KernelError(
      "API_BAD_REQUEST",
      `Unknown answer '${decision.slice(0, 40)}'`,
    );
  }
  const reason = (ctx.form.get("reason") ?? "").trim();
  await ctx.api.call("approvalsAnswer", {
    params: { id },
    body: {
      decision,
      ...(reason ? { reason: reason.slice(0, 1000) } : {}),
      on_behalf_of: ctx.origin,
    },
  });
  if (ctx.wantsJson) return Response.json({ answered: id });
  ctx.setFlash({
    kind: "info",
    text: `${ANSWER_LABELS[decision as ApprovalAnswer]}: answered.`,
  });
  const back = ctx.form.get("back") ?? "";
  const b = ctx.shell.base;
  return redirect(
    back.startsWith("session:")
      ? `${b}sessions/${encodeURIComponent(back.slice(8))}`
      : `${b}approvals`,
  );
}
