/**
 * Lays the chat out on a terminal of any size (80x24 and smaller): a header,
 * the transcript (wrapped, scrollable), the approval prompt, the command
 * palette, a status line with the budget, and the input line — as rows of
 * styled segments; {@linkcode toAnsi} turns a frame into escape sequences
 * that repaint the screen, {@linkcode plainRows} into text (snapshots, tests).
 *
 * @module
 */
import type { ApprovalAnswer, RiskLevel } from "../../sdk/turn.ts";
import type { PaletteCommand } from "./palette.ts";
import type { Entry, EntryStyle } from "./transcript.ts";
import { displayWidth, padTo, sanitize, truncate, wrap } from "./text.ts";

/** How a segment looks. */
export type Style =
  | "plain"
  | "dim"
  | "bold"
  | "inverse"
  | "cyan"
  | "green"
  | "red"
  | "yellow"
  | "magenta";

/** A run of text in one style. */
export interface Segment {
  /** The text (printable only). */
  readonly text: string;
  /** Its style. */
  readonly style: Style;
}

/** One screen row. */
export type Row = readonly Segment[];

/** An approval request being asked. */
export interface ApprovalView {
  /** The action kind. */
  readonly action: string;
  /** What it touches. */
  readonly resource: string;
  /** How dangerous. */
  readonly risk: RiskLevel | string;
  /** The answers offered. */
  readonly options: readonly ApprovalAnswer[];
  /** The option Enter picks. */
  readonly selected: number;
  /** More requests waiting after this one. */
  readonly queued: number;
}

/** Everything the screen shows. */
export interface ChatView {
  /** The header's text. */
  readonly header: string;
  /** The transcript. */
  readonly entries: readonly Entry[];
  /** Rows scrolled up from the bottom of the transcript. */
  readonly scroll: number;
  /** The state: `idle`, `thinking…`, … */
  readonly status: string;
  /** Money spent and the limit, when known. */
  readonly budget?: {
    readonly spent_usd: number;
    readonly limit_usd: number | null;
  };
  /** Tokens of the session's turns so far. */
  readonly tokens?: { readonly input: number; readonly output: number };
  /** The approval prompt, when one is asked. */
  readonly approval?: ApprovalView;
  /** Palette matches to show (none: no palette). */
  readonly palette: readonly PaletteCommand[];
  /** The input line as the editor shows it. */
  readonly input: { readonly text: string; readonly cursorColumn: number };
}

/** A laid-out screen. */
export interface Frame {
  /** Exactly `rows` rows. */
  readonly rows: readonly Row[];
  /** Where the cursor goes (0-based). */
  readonly cursor: { readonly row: number; readonly column: number };
  /** Width. */
  readonly columns: number;
  /** The scroll shown (the view's, clamped to the transcript). */
  readonly scroll: number;
}

/** The keys and short labels of the approval answers. */
export const ANSWER_KEYS: Readonly<
  Record<ApprovalAnswer, { key: string; label: string }>
> = {
  allow_once: { key: "y", label: "Allow once" },
  allow_session: { key: "s", label: "Session" },
  allow_workspace: { key: "w", label: "Workspace" },
  allow_always: { key: "a", label: "Always" },
  deny: { key: "n", label: "Deny" },
};

const ENTRY_STYLE: Readonly<Record<EntryStyle, Style>> = {
  user: "bold",
  assistant: "plain",
  tool: "cyan",
  ok: "green",
  error: "red",
  approval: "yellow",
  notice: "dim",
};

const PROMPT = "› ";
const MAX_PALETTE_ROWS = 8;

function seg(text: string, style: Style = "plain"): Segment {
  return { text, style };
}

function entryRows(e: Entry, columns: number): Row[] {
  const prefix = e.style === "user"
    ? PROMPT
    : e.style === "assistant"
    ? ""
    : "  ";
  const rows: Row[] = wrap(e.text, columns - prefix.length).map((line, i) => [
    seg(
      `${i === 0 ? prefix : " ".repeat(prefix.length)}${line}`,
      ENTRY_STYLE[e.style],
    ),
  ]);
  if (e.style === "user" || e.style === "notice") rows.push([]);
  return rows;
}

/**
 * The transcript's last rows for a width, oldest first: only the newest
 * entries are wrapped, as many as it takes to give `needed` rows (a long
 * conversation costs a paint no more than a short one).
 *
 * @param entries The entries.
 * @param columns The width.
 * @param needed How many rows are wanted (default: all).
 * @returns The rows, and whether they are all the transcript has.
 */
export function transcriptRows(
  entries: readonly Entry[],
  columns: number,
  needed = Infinity,
): { rows: Row[]; complete: boolean } {
  const chunks: Row[][] = [];
  let count = 0;
  let i = entries.length - 1;
  for (; i >= 0 && count < needed; i--) {
    const rows = entryRows(entries[i]!, columns);
    chunks.push(rows);
    count += rows.length;
  }
  return { rows: chunks.reverse().flat(), complete: i < 0 };
}

function money(usd: number): string {
  return `$${usd < 10 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

function statusRow(view: ChatView, columns: number): Row {
  const right: string[] = [];
  if (view.tokens) {
    right.push(`${view.tokens.input}↑ ${view.tokens.output}↓ tok`);
  }
  if (view.budget) {
    right.push(
      `budget ${money(view.budget.spent_usd)}${
        view.budget.limit_usd === null
          ? ""
          : ` / ${money(view.budget.limit_usd)}`
      }`,
    );
  }
  const r = right.join(" · ");
  const left = truncate(
    ` ${sanitize(view.status)}`,
    Math.max(0, columns - displayWidth(r) - 2),
  );
  return [seg(padTo(left, columns - displayWidth(r) - 1) + r + " ", "inverse")];
}

function approvalRows(a: ApprovalView, columns: number): Row[] {
  const title = `Approval needed${
    a.queued > 0 ? ` (+${a.queued} more)` : ""
  }: ${sanitize(a.action)} · risk ${sanitize(String(a.risk))}`;
  const options: Segment[] = [];
  a.options.forEach((o, i) => {
    const k = ANSWER_KEYS[o] ?? { key: "?", label: sanitize(String(o)) };
    const text = `${i === a.selected ? "▸" : " "}[${k.key}] ${k.label} `;
    options.push(seg(text, i === a.selected ? "inverse" : "bold"));
  });
  const resource = wrap(sanitize(a.resource), columns - 4).slice(0, 2);
  return [
    [seg(truncate(title, columns), "yellow")],
    ...resource.map((r) => [seg(`  ${r}`, "plain")]),
    options,
  ];
}

function paletteRows(
  commands: readonly PaletteCommand[],
  columns: number,
): Row[] {
  const shown = commands.slice(0, MAX_PALETTE_ROWS);
  const width = Math.max(
    ...shown.map((c) => c.name.length + (c.args ? c.args.length + 1 : 0)),
  ) + 1;
  return shown.map((c) => [
    seg(
      padTo(
        ` /${c.name}${c.args ? ` ${c.args}` : ""}`.padEnd(width + 2),
        Math.min(columns, width + 2),
      ),
      "cyan",
    ),
    seg(truncate(c.summary, Math.max(0, columns - width - 2)), "dim"),
  ]);
}

/**
 * Lays the view out on a screen.
 *
 * @param view What to show.
 * @param columns The terminal's width.
 * @param rows The terminal's height.
 * @returns The frame.
 */
export function layout(view: ChatView, columns: number, rows: number): Frame {
  const width = Math.max(10, columns);
  const height = Math.max(3, rows);
  const bottom: Row[] = [];
  if (view.approval) bottom.push(...approvalRows(view.approval, width));
  if (view.palette.length > 0) bottom.push(...paletteRows(view.palette, width));
  bottom.push(statusRow(view, width));
  const input = view.approval
    ? [seg("  answer with a key above, or Tab/←/→ and Enter", "dim")]
    : [seg(PROMPT, "bold"), seg(view.input.text)];
  bottom.push(input);
  const room = Math.max(0, height - 1 - bottom.length);
  const { rows: all, complete } = transcriptRows(
    view.entries,
    width,
    room + Math.max(0, view.scroll),
  );
  const maxScroll = complete ? Math.max(0, all.length - room) : view.scroll;
  const scroll = Math.max(0, Math.min(view.scroll, maxScroll));
  const end = all.length - scroll;
  const visible = all.slice(Math.max(0, end - room), end);
  while (visible.length < room) visible.push([]);
  const header: Row = [
    seg(
      padTo(
        ` ${sanitize(view.header)}${
          scroll > 0 ? `  [scrolled ↑${scroll}]` : ""
        }`,
        width,
      ),
      "inverse",
    ),
  ];
  const screen = [header, ...visible, ...bottom].slice(-height);
  const cursorRow = screen.length - 1;
  return {
    rows: screen,
    columns: width,
    scroll,
    cursor: {
      row: cursorRow,
      column: view.approval ? 0 : PROMPT.length + view.input.cursorColumn,
    },
  };
}

/**
 * The frame as plain text rows (no styles).
 *
 * @param frame The frame.
 * @returns One string per row, cut to the frame's width.
 */
export function plainRows(frame: Frame): string[] {
  return frame.rows.map((r) =>
    truncate(r.map((s) => s.text).join(""), frame.columns).trimEnd()
  );
}

const SGR: Readonly<Record<Style, string>> = {
  plain: "",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
  inverse: "\x1b[7m",
  cyan: "\x1b[36m",
  green: "\x1b[32m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  magenta: "\x1b[35m",
};
const NO_COLOR_SGR: Readonly<Record<Style, string>> = {
  ...Object.fromEntries(Object.keys(SGR).map((k) => [k, ""])) as Record<
    Style,
    string
  >,
  bold: "\x1b[1m",
  inverse: "\x1b[7m",
};

/**
 * The escape sequences that paint a frame over the whole screen (home,
 * each row cleared and written, the cursor placed).
 *
 * @param frame The frame.
 * @param color Whether to use colors (bold and inverse are kept without).
 * @returns What to write to the terminal.
 */
export function toAnsi(frame: Frame, color = true): string {
  const sgr = color ? SGR : NO_COLOR_SGR;
  let out = "\x1b[?25l\x1b[H";
  frame.rows.forEach((row, i) => {
    let used = 0;
    let line = "";
    for (const s of row) {
      const text = truncate(s.text, frame.columns - used);
      used += displayWidth(text);
      line += sgr[s.style] ? `${sgr[s.style]}${text}\x1b[0m` : text;
      if (used >= frame.columns) break;
    }
    out += `\x1b[${i + 1};1H\x1b[2K${line}`;
  });
  out += `\x1b[${frame.cursor.row + 1};${
    Math.min(frame.columns, frame.cursor.column + 1)
  }H\x1b[?25h`;
  return out;
}
