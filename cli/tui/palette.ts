/**
 * The chat's `/` command palette: the commands, which of them match what is
 * typed, completion with Tab, and parsing a submitted `/command args` line.
 *
 * @module
 */

/** A palette command. */
export interface PaletteCommand {
  /** The name, without the slash. */
  readonly name: string;
  /** Other names that run it. */
  readonly aliases?: readonly string[];
  /** The arguments, for the help line (e.g. `[paths…]`). */
  readonly args?: string;
  /** What it does, one line. */
  readonly summary: string;
}

/** The chat's commands. */
export const CHAT_COMMANDS: readonly PaletteCommand[] = [
  { name: "help", aliases: ["?"], summary: "list the commands and keys" },
  { name: "new", summary: "start a new session in this workspace" },
  {
    name: "sessions",
    args: "[id]",
    summary: "list sessions; with an id, continue that one",
  },
  {
    name: "diff",
    summary: "show the changes waiting in the session's overlay",
  },
  {
    name: "commit",
    args: "[paths…]",
    summary: "write the overlay's changes to the workspace (gated)",
  },
  {
    name: "approvals",
    summary: "list this session's pending and deferred approvals to answer",
  },
  {
    name: "clear",
    summary: "clear the screen (the session keeps its history)",
  },
  { name: "quit", aliases: ["exit", "q"], summary: "leave the chat" },
];

/**
 * The commands whose name starts with what follows the `/` of an input line
 * still being typed (nothing when the line is not a bare command).
 *
 * @param input The input line.
 * @param commands The commands.
 * @returns The matches, in table order.
 *
 * @example
 * ```ts
 * import { CHAT_COMMANDS, paletteMatches } from "./palette.ts";
 * console.assert(paletteMatches("/c", CHAT_COMMANDS).map((c) => c.name).join() === "commit,clear");
 * ```
 */
export function paletteMatches(
  input: string,
  commands: readonly PaletteCommand[] = CHAT_COMMANDS,
): PaletteCommand[] {
  if (!input.startsWith("/") || /\s/.test(input)) return [];
  const typed = input.slice(1).toLowerCase();
  return commands.filter((c) =>
    c.name.startsWith(typed) ||
    (c.aliases ?? []).some((a) => a.startsWith(typed))
  );
}

/**
 * Completes a command being typed when exactly one command matches, or to
 * the matches' longest common prefix.
 *
 * @param input The input line.
 * @param commands The commands.
 * @returns The completed line (unchanged when nothing to complete).
 */
export function complete(
  input: string,
  commands: readonly PaletteCommand[] = CHAT_COMMANDS,
): string {
  const matches = paletteMatches(input, commands);
  if (matches.length === 0) return input;
  if (matches.length === 1) return `/${matches[0]!.name} `;
  let prefix = matches[0]!.name;
  for (const m of matches) {
    while (!m.name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  return prefix.length > input.length - 1 ? `/${prefix}` : input;
}

/** A submitted command line. */
export interface ParsedCommand {
  /** The command's name (its canonical name when an alias was typed), or the unknown word. */
  readonly name: string;
  /** Whether it is one of the commands. */
  readonly known: boolean;
  /** The words after it. */
  readonly args: readonly string[];
}

/**
 * Parses a submitted line that starts with `/` (a line `//text` is not a
 * command: it is the text `/text`).
 *
 * @param line The line.
 * @param commands The commands.
 * @returns The command, or `null` when the line is a prompt.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./palette.ts";
 * console.assert(parseCommand("/exit")?.name === "quit");
 * console.assert(parseCommand("hello") === null);
 * ```
 */
export function parseCommand(
  line: string,
  commands: readonly PaletteCommand[] = CHAT_COMMANDS,
): ParsedCommand | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("/") || trimmed.startsWith("//")) return null;
  const [word = "", ...args] = trimmed.slice(1).split(/\s+/);
  const lower = word.toLowerCase();
  const command = commands.find((c) =>
    c.name === lower || (c.aliases ?? []).includes(lower)
  );
  return { name: command?.name ?? lower, known: command !== undefined, args };
}

/**
 * The help text: one line per command, then the keys.
 *
 * @param commands The commands.
 * @returns The lines.
 */
export function helpLines(
  commands: readonly PaletteCommand[] = CHAT_COMMANDS,
): string[] {
  const label = (c: PaletteCommand) =>
    `/${c.name}${c.args ? ` ${c.args}` : ""}`;
  const width = Math.max(...commands.map((c) => label(c).length));
  return [
    "Commands:",
    ...commands.map((c) =>
      `  ${label(c).padEnd(width)}  ${c.summary}${
        c.aliases?.length
          ? ` (also ${c.aliases.map((a) => `/${a}`).join(", ")})`
          : ""
      }`
    ),
    "Keys: Enter send · ↑/↓ history · Tab complete · PgUp/PgDn scroll",
    "      Ctrl-C cancel the turn (again, or when idle: quit) · Ctrl-D quit",
    "      //text sends a prompt that starts with /",
  ];
}
