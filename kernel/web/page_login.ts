/**
 * The login page: a form for the one-time token (or the headless server's
 * token). It carries no CSRF token (there is no session yet); the POST is
 * checked for same-origin instead.
 *
 * @module
 */
import { html } from "./html.ts";
import type { Html } from "./html.ts";
import { layout, type Shell } from "./layout.ts";

/**
 * The login page.
 *
 * @param shell The base path.
 * @param error Why the last attempt failed.
 * @returns The page.
 */
export function loginPage(shell: Shell, error?: string): Html {
  return layout(shell, {
    title: "Log in",
    ...(error ? { flash: { kind: "error" as const, text: error } } : {}),
    content: html`
      <div class="card">
        <p>Open the one-time link that <code>astrid web</code> printed, or paste its
      token here. On a headless server, enter the server's token
      (<code>ASTRID_SERVE_TOKEN</code>).</p>
        <form method="post" action="${shell.base}login">
          <label for="token">Token</label>
          <input id="token" name="token" type="password" autocomplete="off" required>
          <div
            class="buttons"><button class="primary" type="submit">Log in</button></div>
        </form>
      </div>
    `,
  });
}
