/**
 * Pages: capsules (installed, their grants in plain words, the engines'
 * health, refused ones, reload) and budgets (the limits, and what each
 * session and workspace spent).
 *
 * @module
 */
import type { CapsuleListBody, ConfigBody } from "../api/contract_admin.ts";
import type {
  SessionBudget,
  SessionInfo,
  StatusInfo,
} from "../api/contract.ts";
import { html } from "./html.ts";
import { htmlResponse, redirect } from "./http.ts";
import { csrfField, layout, when } from "./layout.ts";
import type { PageContext } from "./page_context.ts";

/** `GET capsules`. */
export async function capsules(ctx: PageContext): Promise<Response> {
  const [body, status] = await Promise.all([
    ctx.api.call<CapsuleListBody>("capsulesList"),
    ctx.api.call<StatusInfo>("status"),
  ]);
  return htmlResponse(layout(ctx.shell, {
    title: "Capsules",
    current: "capsules",
    flash: ctx.flash,
    content: html`
      <h2>Engines</h2><div class="card">${status.engines.map((e) =>
        html`<div><strong>${e.name}</strong>: ${
          e.available
            ? html`<span class="ok">available</span>`
            : html`<span class="error">unavailable</span> ${e.reason ?? ""}`
        }</div>`
      )}</div>
      <form method="post"
        action="${ctx.shell.base}capsules/reload">${csrfField(
          ctx.shell,
        )}<div class="buttons"><button type="submit">Reload capsules</button></div></form>
      <h2>Installed (${body.capsules.length})</h2>
      ${body.capsules.map((c) =>
        html`
          <div
            class="card"><strong>${c.name}</strong> ${c
              .version} <span class="tag">${c.engine}</span>${c.unconfined
              ? html`
                <span class="tag error">unconfined</span>
              `
              : ""}
          ${c.description ? html`<div>${c.description}</div>` : ""}
          <div class="muted">${c.source ?? "local"} · installed ${when(
            c.installed_at,
          )}</div>
          ${c.grants.length === 0
            ? html`<div class="muted">Asks for nothing.</div>`
            : html`<ul>${c.grants.map((g) => html`<li>${g}</li>`)}</ul>`}</div>
        `
      )}
      ${body.refused.length === 0
        ? ""
        : html`<h2>Refused (${body.refused.length})</h2>${
          body.refused.map((r) =>
            html`
              <div
                class="card risk-high"><strong>${r.name}</strong> ${r.code}: ${r
                  .reason}</div>
            `
          )
        }`}
    `,
  }));
}

/** `POST capsules/reload`. */
export async function reload(ctx: PageContext): Promise<Response> {
  await ctx.api.call("capsulesReload");
  ctx.setFlash({
    kind: "info",
    text: "Capsules reloaded in every idle session.",
  });
  return redirect(`${ctx.shell.base}capsules`);
}

/**
 * Dollars for people.
 *
 * @param usd An amount, or `null` for no cap.
 * @returns The text.
 */
export function dollars(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "no cap";
  return `$${usd < 1 && usd > 0 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** The most sessions whose spend the budgets page reads. */
const MAX_BUDGET_ROWS = 50;

/** `GET budgets`: the limits and what each session and workspace spent. */
export async function budgets(ctx: PageContext): Promise<Response> {
  const sessions = (await ctx.api.call<SessionInfo[]>("sessionsList")).slice(
    0,
    MAX_BUDGET_ROWS,
  );
  const spent = await Promise.all(
    sessions.map((s) =>
      ctx.api.call<SessionBudget>("sessionBudget", { params: { id: s.id } })
    ),
  );
  const limits = spent[0]?.limits ??
    (await budgetLimits(ctx));
  const workspaces = new Map<string, number>();
  for (const b of spent) workspaces.set(b.workspace, b.workspace_spent_usd);
  const b = ctx.shell.base;
  return htmlResponse(layout(ctx.shell, {
    title: "Budgets",
    current: "budgets",
    content: html`
      <h2>Limits</h2>
      <table>
        <tbody>
          <tr>
            <td>Per session</td>
            <td>${dollars(limits?.session_max_usd)}</td>
          </tr>
          <tr>
            <td>Per workspace</td>
            <td>${dollars(limits?.workspace_max_usd)}</td>
          </tr>
          <tr>
            <td>Per action</td>
            <td>${dollars(limits?.per_action_max_usd)}</td>
          </tr>
          <tr>
            <td>Warn at</td>
            <td>${limits ? `${limits.warn_at_percent} %` : "—"}</td>
          </tr>
        </tbody>
      </table>
      <h2>Sessions</h2>
      ${spent.length === 0 ? html`<p class="muted">No sessions yet.</p>` : html`
        <table class="wide">
          <thead>
            <tr>
              <th>Session</th>
              <th>Spent</th>
              <th>Of the cap</th>
            </tr>
          </thead>
          <tbody>${spent.map((x, i) =>
            html`
              <tr>
                <td><a href="${b}sessions/${encodeURIComponent(
                  x.session,
                )}">${sessions[i]!.title ?? x.session}</a></td>
                <td>${dollars(x.session_spent_usd)}</td>
                <td>${percent(
                  x.session_spent_usd,
                  x.limits.session_max_usd,
                )}</td>
              </tr>
            `
          )}</tbody>
        </table>
      `}
      <h2>Workspaces</h2>
      <table class="wide">
        <thead>
          <tr>
            <th>Workspace</th>
            <th>Spent</th>
            <th>Of the cap</th>
          </tr>
        </thead>
        <tbody>${[...workspaces].map(([w, usd]) =>
          html`
            <tr>
              <td class="resource">${w}</td>
              <td>${dollars(usd)}</td>
              <td>${percent(usd, limits?.workspace_max_usd ?? null)}</td>
            </tr>
          `
        )}</tbody>
      </table>
      <p
        class="muted">A running turn's spending also shows live in its session view.</p>
    `,
  }));
}

function percent(spent: number, cap: number | null): string {
  if (cap === null) return "—";
  if (cap === 0) return spent > 0 ? "over" : "0 %";
  return `${Math.round((spent / cap) * 1000) / 10} %`;
}

/** The limits from the configuration, when no session exists to ask. */
async function budgetLimits(
  ctx: PageContext,
): Promise<SessionBudget["limits"] | undefined> {
  const { entries } = await ctx.api.call<ConfigBody>("config");
  const get = (k: string) => {
    const v = entries.find((e) => e.key === `budget.${k}`)?.value;
    return typeof v === "number" ? v : null;
  };
  const session = get("session_max_usd");
  const action = get("per_action_max_usd");
  if (session === null || action === null) return undefined;
  return {
    session_max_usd: session,
    per_action_max_usd: action,
    workspace_max_usd: get("workspace_max_usd"),
    warn_at_percent: get("warn_at_percent") ?? 80,
  };
}
