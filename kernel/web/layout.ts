/**
 * The page shell of the console: head (viewport, the CSRF token for the
 * script, the one stylesheet and the one script), the navigation, a flash
 * message and the page's content.
 *
 * @module
 */
import { html, type HtmlValue } from "./html.ts";
import type { Html } from "./html.ts";

/** The pages of the navigation. */
export const NAV = [
  ["sessions", "Sessions"],
  ["approvals", "Approvals"],
  ["audit", "Audit"],
  ["budgets", "Budgets"],
  ["capsules", "Capsules"],
] as const;

/** A message shown once at the top of the next page. */
export interface Flash {
  /** `info` or `error`. */
  readonly kind: "info" | "error";
  /** The text (escaped). */
  readonly text: string;
}

/** What every page knows. */
export interface Shell {
  /** The console's base path, ending in `/`. */
  readonly base: string;
  /** The session's CSRF token; absent when logged out. */
  readonly csrf?: string;
}

/**
 * A hidden form field with the CSRF token.
 *
 * @param shell The page's shell.
 * @returns The field.
 */
export function csrfField(shell: Shell): Html {
  return html`<input type="hidden" name="csrf" value="${shell.csrf ?? ""}">`;
}

/**
 * A whole page.
 *
 * @param shell Base path and CSRF token.
 * @param page Title, the current navigation entry, the content, a flash.
 * @returns The page.
 */
export function layout(
  shell: Shell,
  page: {
    readonly title: string;
    readonly current?: string;
    readonly content: HtmlValue;
    readonly flash?: Flash | undefined;
  },
): Html {
  const b = shell.base;
  const nav = shell.csrf === undefined ? "" : html`
    <nav>${NAV.map(([path, label]) =>
      html`
        <a href="${b}${path}" ${page.current === path
          ? html`
            aria-current="page"
          `
          : ""}>${label}</a>
      `
    )}</nav>
    <form method="post"
      action="${b}logout">${csrfField(
        shell,
      )}<button type="submit">Log out</button></form>
  `;
  return html`
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="csrf-token" content="${shell.csrf ?? ""}">
        <title>${page.title} · Astrid</title>
        <link rel="stylesheet" href="${b}static/console.css">
        <script src="${b}static/console.js" defer></script>
      </head>
      <body>
        <header><span class="brand">Astrid</span>${nav}</header>
        <main>
    ${page.flash
      ? html`<div class="flash ${page.flash.kind}" role="status">${page.flash.text}</div>`
      : ""}
    <h1>${page.title}</h1>
    ${page.content}
        </main>
      </body>
    </html>
  `;
}

/**
 * A timestamp for people (UTC, to the second).
 *
 * @param ms Milliseconds since the epoch.
 * @returns The text.
 */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
