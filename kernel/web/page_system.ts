/**
 * Pages: capsules (installed, their grants in plain words, the engines'
 * health, refused ones, reload) and budgets (the configured limits; the
 * API does not report amounts spent per session or workspace yet — the
 * live turn view shows a running turn's budget events).
 *
 * @module
 */
import type { CapsuleListBody, ConfigBody } from "../api/contract_admin.ts";
import type { SessionInfo, StatusInfo } from "../api/contract.ts";
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

/** `GET budgets`. */
export async function budgets(ctx: PageContext): Promise<Response> {
  const [config, sessions] = await Promise.all([
    ctx.api.call<ConfigBody>("config"),
    ctx.api.call<SessionInfo[]>("sessionsList"),
  ]);
  const limits = config.entries.filter((e) => e.key.startsWith("budget."));
  return htmlResponse(layout(ctx.shell, {
    title: "Budgets",
    current: "budgets",
    content: html`
      <h2>Limits</h2>
      <table>
        <tbody>${limits.map((e) =>
          html`
            <tr>
              <td>${e.key}</td>
              <td>${String(e.value)}</td>
              <td class="muted">${e.description} (${e.layer})</td>
            </tr>
          `
        )}</tbody>
      </table>
      <h2>Spent</h2>
      <p class="muted">The daemon's API does not report the amount spent per
      session or workspace yet. A running turn's spending shows live in its
      session view (its <code>budget</code> events).</p>
      <ul>${sessions.map((s) =>
        html`<li><a href="${ctx.shell.base}sessions/${
          encodeURIComponent(s.id)
        }">${
          s.title ?? s.id
        }</a> <span class="muted">${s.workspace}</span></li>`
      )}</ul>
    `,
  }));
}
