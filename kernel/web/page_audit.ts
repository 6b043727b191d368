/**
 * Pages: the audit chain — browse and filter entries, one entry in full,
 * verify the chains (the result and the first bad entry when one fails),
 * and the export as JSON lines.
 *
 * @module
 */

import type {
  AuditListBody,
  AuditStatsBody,
  AuditVerifyBody,
} from "../api/contract_admin.ts";
import { html } from "./html.ts";
import { htmlResponse } from "./http.ts";
import { csrfField, layout, when } from "./layout.ts";
import type { PageContext } from "./page_context.ts";

type AuditEntry = AuditListBody["entries"][number];

const FILTERS = ["session", "capsule", "action", "decision"] as const;

function actionType(e: AuditEntry): string {
  const a = e.action as { type?: unknown } | null;
  return a && typeof a === "object" && typeof a.type === "string"
    ? a.type
    : "?";
}

/** `GET audit`: the newest entries, filtered. */
export async function list(ctx: PageContext): Promise<Response> {
  const q = ctx.url.searchParams;
  const query: Record<string, string | undefined> = {};
  for (const f of FILTERS) query[f] = q.get(f) || undefined;
  const limit = q.get("limit") || "50";
  query["limit"] = /^\d{1,4}$/.test(limit) ? limit : "50";
  const [{ entries }, stats] = await Promise.all([
    ctx.api.call<AuditListBody>("auditList", { query }),
    ctx.api.call<AuditStatsBody>("auditStats"),
  ]);
  const b = ctx.shell.base;
  return htmlResponse(layout(ctx.shell, {
    title: "Audit",
    current: "audit",
    flash: ctx.flash,
    content: html`
      <p
        class="muted">${stats.entries} entries of ${stats.principal}, ${when(
          stats.first_at,
        )} – ${when(stats.last_at)}</p>
      <div class="buttons">
        <form method="post"
          action="${b}audit/verify">${csrfField(
            ctx.shell,
          )}<button class="primary" type="submit">Verify the chain</button></form>
        <a class="button" href="${b}audit/export"
          download="audit.jsonl">Export (JSON lines)</a>
      </div>
      <form class="card filters" method="get"
        action="${b}audit">${FILTERS.map((f) =>
          html`<div><label for="f-${f}">${f}</label><input id="f-${f}" type="search" name="${f}" value="${
            q.get(f) ?? ""
          }"></div>`
        )}<div><label for="f-limit">limit</label><input id="f-limit" type="search" name="limit" value="${query[
          "limit"
        ]}"></div><div><button type="submit">Filter</button></div></form>
      <table class="wide">
        <thead>
          <tr>
            <th>#</th>
            <th>When</th>
            <th>Action</th>
            <th>Decision</th>
            <th>Session / capsule</th>
          </tr>
        </thead>
        <tbody>${entries.map((e) =>
          html`
            <tr>
              <td><a href="${b}audit/entries/${encodeURIComponent(e.id)}">${e
                .seq}</a></td>
              <td>${when(e.timestamp)}</td>
              <td>${actionType(e)}</td>
              <td><span class="tag">${e.decision}</span></td>
              <td class="resource">${e.session ?? ""} ${e.capsule ?? ""}</td>
            </tr>
          `
        )}</tbody>
      </table>
    `,
  }));
}

/** `GET audit/entries/:id`. */
export async function show(ctx: PageContext): Promise<Response> {
  const entry = await ctx.api.call<AuditEntry>("auditShow", {
    params: { id: ctx.params["id"]! },
  });
  return htmlResponse(layout(ctx.shell, {
    title: `Audit entry ${entry.seq}`,
    current: "audit",
    content: html`<p><a href="${ctx.shell.base}audit">All entries</a></p>
<pre>${JSON.stringify(entry, null, 2)}</pre>`,
  }));
}

/** `POST audit/verify`: verifies every chain and shows the first bad entry. */
export async function verify(ctx: PageContext): Promise<Response> {
  const report = await ctx.api.call<AuditVerifyBody>("auditVerify", {
    body: {},
  });
  const b = ctx.shell.base;
  return htmlResponse(layout(ctx.shell, {
    title: "Audit verification",
    current: "audit",
    content: html`<div class="flash ${
      report.ok ? "" : "error"
    }" id="verify-result">${
      report.ok
        ? "Verified: every chain is intact and signed."
        : "FAILED: a chain is broken."
    }</div>
${
      report.chains.map((c) =>
        html`
          <div
            class="card"><strong>${c.principal}</strong>: ${c.valid
              ? html`<span class="ok">valid</span>`
              : html`<span class="error">invalid</span>`}, ${c
              .entries_verified} entries verified${c.first_bad
              ? html`
                <div
                  class="error">First bad entry: #${c.first_bad
                    .seq} ${c.first_bad.id ?? ""} — ${c.first_bad.code}: ${c
                    .first_bad.reason}</div>
              `
              : ""}</div>
        `
      )
    }
<p><a href="${b}audit">Back to the audit log</a></p>`,
  }));
}

/** `GET audit/export`: the chain as a JSON-lines download. */
export async function exportLines(ctx: PageContext): Promise<Response> {
  const upstream = await ctx.api.raw("auditExport", {
    signal: ctx.request.signal,
  });
  return new Response(upstream.body, {
    headers: {
      "content-type": "application/x-ndjson",
      "content-disposition": 'attachment; filename="audit.jsonl"',
    },
  });
}
