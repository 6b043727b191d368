// deno-lint-ignore-file no-control-regex -- removing control characters and escape sequences is this file's job
/**
 * Text for the terminal: untrusted text made safe to print (no escape
 * sequences or control characters from a model or a tool can reach the
 * terminal), display widths, wrapping and truncation by terminal columns.
 *
 * @module
 */

/**
 * Removes everything a terminal would interpret: ESC sequences, C0 and C1
 * control characters and DEL. Tabs become two spaces; with `keepNewlines`,
 * `\n` survives (and `\r\n` becomes `\n`).
 *
 * @param text Untrusted text (model output, tool results, server messages).
 * @param keepNewlines Whether line breaks survive.
 * @returns Printable text.
 *
 * @example
 * ```ts
 * import { sanitize } from "./text.ts";
 * console.assert(sanitize("a\x1b]52;c;Zm9v\x07b\x1b[2Jc") === "abc");
 * ```
 */
export function sanitize(text: string, keepNewlines = false): string {
  const noSeq = text
    // CSI, OSC, DCS/PM/APC/SOS strings and two-byte ESC sequences.
    .replace(/(\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?/g, "")
    .replace(
      /(\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(\x07|\x1b\\|\x9c)?/g,
      "",
    )
    .replace(/\x1b[ -~]?/g, "")
    .replace(/\r\n/g, "\n")
    .replace(/\t/g, "  ");
  const controls = keepNewlines
    ? /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g
    : /[\x00-\x1f\x7f-\x9f]/g;
  return noSeq.replace(controls, keepNewlines ? "" : " ").replace(
    /[\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    "",
  );
}

/**
 * The number of terminal columns a code point takes: 0 for combining marks
 * and zero-width characters, 2 for East Asian wide characters and emoji, 1
 * otherwise.
 *
 * @param cp A code point.
 * @returns 0, 1 or 2.
 */
export function codePointWidth(cp: number): number {
  if (
    (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) || cp === 0x200d
  ) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) return 2;
  return 1;
}

/**
 * The display width of text without control characters.
 *
 * @param text Sanitized text.
 * @returns Columns.
 *
 * @example
 * ```ts
 * import { displayWidth } from "./text.ts";
 * console.assert(displayWidth("ab漢") === 4);
 * ```
 */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += codePointWidth(ch.codePointAt(0)!);
  return w;
}

/**
 * Cuts text to at most `columns` columns, ending in `…` when cut.
 *
 * @param text Sanitized text.
 * @param columns The room.
 * @returns The text, fitting.
 */
export function truncate(text: string, columns: number): string {
  if (columns <= 0) return "";
  if (displayWidth(text) <= columns) return text;
  let out = "";
  let w = 0;
  for (const ch of text) {
    const cw = codePointWidth(ch.codePointAt(0)!);
    if (w + cw > columns - 1) break;
    out += ch;
    w += cw;
  }
  return out + "…";
}

/**
 * Pads text with spaces to exactly `columns` columns (cutting it first when longer).
 *
 * @param text Sanitized text.
 * @param columns The width.
 * @returns The padded text.
 */
export function padTo(text: string, columns: number): string {
  const t = truncate(text, columns);
  return t + " ".repeat(Math.max(0, columns - displayWidth(t)));
}

/**
 * Wraps text to rows of at most `columns` columns: at spaces where it can,
 * inside a word when a word is longer than a row. `\n` starts a new row.
 *
 * @param text Sanitized text (newlines allowed).
 * @param columns The width (at least 1).
 * @returns The rows.
 *
 * @example
 * ```ts
 * import { wrap } from "./text.ts";
 * console.assert(wrap("hello big world", 9).join("|") === "hello big|world");
 * ```
 */
export function wrap(text: string, columns: number): string[] {
  const width = Math.max(1, columns);
  const rows: string[] = [];
  for (const line of text.split("\n")) {
    let row = "";
    let rowWidth = 0;
    for (const word of line.split(/( +)/)) {
      if (word === "") continue;
      const ww = displayWidth(word);
      if (rowWidth + ww <= width) {
        row += word;
        rowWidth += ww;
        continue;
      }
      if (word.trim() === "") {
        rows.push(row);
        row = "";
        rowWidth = 0;
        continue;
      }
      if (ww <= width && rowWidth > 0) {
        rows.push(row.trimEnd());
        row = word;
        rowWidth = ww;
        continue;
      }
      for (const ch of word) {
        const cw = codePointWidth(ch.codePointAt(0)!);
        if (rowWidth + cw > width) {
          rows.push(row);
          row = "";
          rowWidth = 0;
        }
        row += ch;
        rowWidth += cw;
      }
    }
    rows.push(row.trimEnd());
  }
  return rows;
}
