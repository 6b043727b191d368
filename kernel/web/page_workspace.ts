/**
 * Pages: a session's overlay under review — each changed file with its
 * diff — committed (all or the chosen paths) or discarded. A commit is
 * gated like any write: it starts in the background and, when it waits for
 * approvals, the reviewer is sent to them; the result shows here when done.
 *
 * @module
 */
import type { WorkspaceChange } from "../api/contract.ts";
import { toWireError } from "../core/errors.ts";
import { html } from "./html.ts";
import type { Html } from "./html.ts";
import { htmlResponse, redirect } from "./http.ts";
import { csrfField, layout } from "./layout.ts";
import type { CommitJob, PageContext } from "./page_context.ts";

/** How long a commit may take before the reviewer is sent to the approvals. */
const COMMIT_WAIT_MS = 1_500;

function diffLines(diff: string): Html[] {
  return diff.split("\n").map((line) => {
    const cls = line.startsWith("+") && !line.startsWith("+++")
      ? "add"
      : line.startsWith("-") && !line.startsWith("---")
      ? "del"
      : line.startsWith("@@")
      ? "hunk"
      : "";
    return html`<span class="${cls}">${line}</span>\n`;
  });
}

/** `GET sessions/:id/workspace`. */
export async function show(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  const changes = await ctx.api.call<WorkspaceChange[]>("workspaceDiff", {
    params: { id },
  });
  const b = ctx.shell.base;
  const here = `${b}sessions/${encodeURIComponent(id)}/workspace`;
  const job = ctx.commits.get(id);
  if (job?.result) ctx.commits.delete(id);
  const running = !job ? "" : !job.result
    ? html`
      <div
        class="flash">A commit is running; it may wait for your <a href="${b}approvals?session=${encodeURIComponent(
          id,
        )}">approval</a>.</div>
    `
    : "committed" in job.result
    ? html`<div class="flash">Committed: ${
      job.result.committed.join(", ") || "nothing"
    }</div>`
    : html`<div class="flash error">The commit failed: ${job.result.error}</div>`;
  return htmlResponse(layout(ctx.shell, {
    title: "Review changes",
    current: "sessions",
    flash: ctx.flash,
    content: html`
      <p
        class="muted">Session <a href="${b}sessions/${encodeURIComponent(
          id,
        )}">${id}</a></p>${running}
      ${changes.length === 0
        ? html`<p class="muted">No changes wait in the overlay.</p>`
        : html`<form method="post" action="${here}/commit">${
          csrfField(ctx.shell)
        }
<div class="buttons"><button type="button" data-check-all="1">Select all</button><button type="button" data-check-all="0">Select none</button></div>
${
          changes.map((c) =>
            html`
              <div
                class="card"><label class="check"><input type="checkbox" name="path" value="${c
                  .path}" checked> <span class="tag">${c
                  .change}</span> <span class="resource">${c
                  .path}</span></label>${c.diff
                  ? html`<pre class="diff">${diffLines(c.diff)}</pre>`
                  : html`<p class="muted">(no text diff)</p>`}</div>
            `
          )
        }
<div class="buttons">
<button class="primary" type="submit">Commit selected</button>
<button class="danger" type="submit" formaction="${here}/discard">Discard selected</button>
</div></form>`}
    `,
  }));
}

/** `POST sessions/:id/workspace/commit`: commits the chosen paths. */
export async function commit(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  const paths = ctx.form.getAll("path");
  const b = ctx.shell.base;
  if (paths.length === 0) {
    ctx.setFlash({ kind: "error", text: "Choose at least one file." });
    return redirect(`${b}sessions/${encodeURIComponent(id)}/workspace`);
  }
  const done = ctx.api.call<{ committed: string[] }>("workspaceCommit", {
    params: { id },
    body: { paths },
  }).then((r) => r.committed);
  const job: CommitJob = {
    started: Date.now(),
    done,
  };
  ctx.commits.set(id, job);
  done.then(
    (committed) => (job.result = { committed }),
    (err) => (job.result = { error: toWireError(err).message }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    done.catch(() => {}),
    new Promise((r) => (timer = setTimeout(r, COMMIT_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (job.result && "committed" in job.result) {
    ctx.commits.delete(id);
    ctx.setFlash({
      kind: "info",
      text: job.result.committed.length === 0
        ? "Nothing to commit."
        : `Committed: ${job.result.committed.join(", ")}`,
    });
    return redirect(`${b}sessions/${encodeURIComponent(id)}/workspace`);
  }
  if (job.result && "error" in job.result) {
    ctx.commits.delete(id);
    ctx.setFlash({
      kind: "error",
      text: `The commit failed: ${job.result.error}`,
    });
    return redirect(`${b}sessions/${encodeURIComponent(id)}/workspace`);
  }
  ctx.setFlash({
    kind: "info",
    text:
      "The commit waits for your approval: answer below, then review the workspace again.",
  });
  return redirect(`${b}approvals?session=${encodeURIComponent(id)}`);
}

/** `POST sessions/:id/workspace/discard`: drops the chosen paths from the overlay. */
export async function discard(ctx: PageContext): Promise<Response> {
  const id = ctx.params["id"]!;
  const paths = ctx.form.getAll("path");
  const b = ctx.shell.base;
  if (paths.length === 0) {
    ctx.setFlash({ kind: "error", text: "Choose at least one file." });
  } else {
    const { discarded } = await ctx.api.call<{ discarded: string[] }>(
      "workspaceDiscard",
      { params: { id }, body: { paths } },
    );
    ctx.setFlash({ kind: "info", text: `Discarded: ${discarded.join(", ")}` });
  }
  return redirect(`${b}sessions/${encodeURIComponent(id)}/workspace`);
}
