/**
 * Pages: the sessions list (start one in a workspace), a session's live
 * view (its history, the turn streaming in through the session's events,
 * the approvals it waits for, the prompt form), sending a prompt,
 * cancelling a turn, and the events stream the script reads.
 *
 * @module
 */
import type { Message } from "../../sdk/llm.ts";
import type {
  ApprovalInfo,
  PromptStreamEvent,
  SessionBudget,
  SessionInfo,
} from "../api/contract.ts";
import { dollars } from "./page_system.ts";
import { KernelError } from "../core/errors.ts";
import { html } from "./html.ts";
import type { Html } from "./html.ts";
import { linkSignals } from "../core/linked_signal.ts";
import { htmlResponse, redirect, relay } from "./http.ts";
import { csrfField, layout, when } from "./layout.ts";
import type { PageContext } from "./page_context.ts";
import { approvalCard } from "./page_approvals.ts";

/** `GET sessions`. */
export async function list(ctx: PageContext): Promise<Response> {
  const all = await ctx.api.call<SessionInfo[]>("sessionsList");
  const b = ctx.shell.base;
  const rows = all.map((s) =>
    html`
      <tr>
        <td><a href="${b}sessions/${encodeURIComponent(s.id)}">${s.title ??
          "(no prompt yet)"}</a>
      <div class="muted">${s.id}</div></td>
        <td class="resource">${s.workspace}</td>
        <td>${s.turns}</td>
        <td>${s.busy
          ? html`<span class="tag">working</span>`
          : "idle"}${s.pending_approvals > 0
          ? html`
            <a class="tag"
              href="${b}approvals?session=${encodeURIComponent(s.id)}">${s
                .pending_approvals} waiting</a>
          `
          : ""}</td>
        <td>${when(s.updated_at)}</td>
      </tr>
    `
  );
  return htmlResponse(layout(ctx.shell, {
    title: "Sessions",
    current: "sessions",
    flash: ctx.flash,
    content: html`<form class="card" method="post" action="${b}sessions">${
      csrfField(ctx.shell)
    }
<label for="workspace">Start a session in a workspace (absolute path)</label>
<input id="workspace" name="workspace" type="text" required value="${
      all[0]?.workspace ?? ""
    }">
<div class="buttons"><button class="primary" type="submit">New session</button></div>
</form>
${
      all.length === 0 ? html`<p class="muted">No sessions yet.</p>` : html`
        <table class="wide">
          <thead>
            <tr>
              <th>Session</th>
              <th>Workspace</th>
              <th>Turns</th>
              <th>State</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>${rows}</tbody>
        </table>
      `
    }`,
  }));
}

/** `POST sessions`: creates one and opens it. */
export async function create(ctx: PageContext): Promise<Response> {
  const workspace = (ctx.form.get("workspace") ?? "").trim();
  const s = await ctx.api.call<SessionInfo>("sessionsCreate", {
    body: { workspace },
  });
  return redirect(`${ctx.shell.base}sessions/${encodeURIComponent(s.id)}`);
}

function history(messages: readonly Message[]): Html[] {
  const out: Html[] = [];
  for (const m of messages) {
    for (const block of m.content) {
      if (block.type === "text") {
        out.push(html`<div class="msg ${m.role}">${block.text}</div>`);
      } else if (block.type === "tool_use") {
        out.push(
          html`<div class="tool">→ ${block.name} ${
            JSON.stringify(block.input)
          }</div>`,
        );
      } else {
        out.push(
          html`<pre class="${
            block.is_error ? "result error" : "result"
          }" data-tool-result="${block.tool_use_id}">${block.content}</pre>`,
        );
      }
    }
  }
  return out;
}

/** `GET sessions/:id`: the live view. */
export async function show(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  const params = { id };
  const [s, messages, waiting, budget] = await Promise.all([
    ctx.api.call<SessionInfo>("sessionsShow", { params }),
    ctx.api.call<Message[]>("sessionMessages", { params }),
    ctx.api.call<ApprovalInfo[]>("approvalsList", { query: { session: id } }),
    ctx.api.call<SessionBudget>("sessionBudget", { params }),
  ]);
  const b = ctx.shell.base;
  const here = `${b}sessions/${encodeURIComponent(id)}`;
  return htmlResponse(layout(ctx.shell, {
    title: s.title ?? "New session",
    current: "sessions",
    flash: ctx.flash,
    content: html`
      <p class="muted">${s.id} · <span class="resource">${s
        .workspace}</span></p>
      <div class="buttons">
        <a class="button" href="${here}/workspace">Review changes</a>
        <a class="button"
          href="${b}approvals?session=${encodeURIComponent(id)}">Approvals</a>
        <form method="post"
          action="${here}/cancel">${csrfField(
            ctx.shell,
          )}<button class="danger" type="submit">Cancel turn</button></form>
      </div>
      ${waiting.map((a) => approvalCard(ctx, a, `session:${id}`))}
      <section id="live" data-events="${here}/events"
        data-approvals="${b}approvals/">
        <p
          class="muted">State: <span id="turn-state">${s.busy
            ? "working…"
            : "idle"}</span> · Budget: <span id="budget">${dollars(
              budget.session_spent_usd,
            )} of ${dollars(budget.limits.session_max_usd)}</span></p>
        <div id="turn">${history(messages)}</div>
      </section>
      <form data-enhance="prompt" method="post"
        action="${here}/prompt">${csrfField(ctx.shell)}
      <label for="text">Prompt</label>
      <textarea id="text" name="text" required></textarea>
      <div class="buttons"><button class="primary" type="submit">Send</button></div>
      </form>
    `,
  }));
}

/** `POST sessions/:id/prompt`: starts a turn; it runs on after the answer. */
export async function prompt(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  const text = ctx.form.get("text") ?? "";
  if (text.trim() === "") {
    throw new KernelError("API_BAD_REQUEST", "The prompt is empty");
  }
  const events = ctx.api.stream<PromptStreamEvent>("sessionPrompt", {
    params: { id },
    body: { text },
  })[Symbol.asyncIterator]();
  const first = await events.next(); // TURN_BUSY and the like arrive here
  // The turn streams to every viewer through /events; drain this copy.
  (async () => {
    try {
      while (!(await events.next()).done) { /* drain */ }
    } catch {
      // silent-ok: the turn's own error reached the viewers as an event
    }
  })();
  if (ctx.wantsJson) {
    return Response.json(
      { started: first.done ? null : first.value },
      { status: 202 },
    );
  }
  return redirect(`${ctx.shell.base}sessions/${encodeURIComponent(id)}`);
}

/** `POST sessions/:id/cancel`. */
export async function cancel(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  await ctx.api.call("sessionCancel", { params: { id } });
  ctx.setFlash({ kind: "info", text: "The turn was cancelled." });
  return redirect(`${ctx.shell.base}sessions/${encodeURIComponent(id)}`);
}

/** `GET sessions/:id/events`: the session's events, relayed as they are (SSE). */
export async function events(ctx: PageContext): Promise<Response> {
  const linked = linkSignals([ctx.request.signal, ctx.closing]);
  let upstream: Response;
  try {
    upstream = await ctx.api.raw("sessionEvents", {
      params: { id: ctx.params["id"]! },
      signal: linked.signal,
    });
  } catch (err) {
    linked.unlink();
    throw err;
  }
  return new Response(relay(upstream.body, ctx.closing, linked.unlink), {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
    },
  });
}
