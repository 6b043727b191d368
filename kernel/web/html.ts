/**
 * HTML rendering by tagged template: every interpolated value is escaped
 * unless it is itself {@linkcode Html} (the result of another `html`
 * template). Attacker-controlled text — tool output, file names, diffs,
 * capsule names — can only ever become text, never markup: there is no
 * "raw" escape hatch for strings.
 *
 * @module
 */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

/**
 * Escapes text for an HTML text node or a quoted attribute value.
 *
 * @param text Any text.
 * @returns The escaped text.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * console.assert(escapeHtml("<b a=\"1\">") === "&lt;b a=&quot;1&quot;&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** Only this module holds the key that makes {@linkcode Html}. */
const MINT: unique symbol = Symbol("html");

/** Markup that is safe to embed: only `html` templates make one. */
export class Html {
  readonly #text: string;
  /**
   * @param key This module's private key (anything else throws).
   * @param text Markup built by {@linkcode html}.
   */
  constructor(key: typeof MINT, text: string) {
    if (key !== MINT) throw new TypeError("Html is made by html`…` only");
    this.#text = text;
  }
  /** The markup. */
  toString(): string {
    return this.#text;
  }
}

/** What may be interpolated: text and numbers are escaped, `Html` kept, lists joined. */
export type HtmlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | Html
  | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * Builds markup; interpolated values are escaped (see the module doc).
 *
 * @param strings The literal parts (trusted: they are our source code).
 * @param values The values.
 * @returns The markup.
 *
 * @example
 * ```ts
 * import { html } from "./html.ts";
 * const name = "<script>x</script>";
 * console.assert(String(html`<p>${name}</p>`) === "<p>&lt;script&gt;x&lt;/script&gt;</p>");
 * ```
 */
export function html(
  strings: TemplateStringsArray,
  ...values: readonly HtmlValue[]
): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) {
    out += render(values[i]!) + (strings[i + 1] ?? "");
  }
  return new Html(MINT, out);
}
