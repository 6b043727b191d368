/**
 * Command lines as allowance patterns see them: one canonical rendering of
 * `command` + `args`, the glob escaping of an approved line, and the
 * matcher of `command_pattern` allowances.
 *
 * Security model: an allowance names a whole command line, arguments
 * included (0.5.1 dropped them, so approving `git status` approved nothing
 * useful — or, with a wildcard, too much). A line that contains a shell
 * metacharacter (`;` `&` `|` `` ` `` `$` `<` `>`, a newline, a carriage
 * return or NUL) in the command or in any argument never matches any pattern,
 * so `git status; rm -rf ~` cannot ride on an approval of `git status *`.
 * Arguments that contain whitespace, quotes or backslashes are single-quoted
 * in the rendering, so `["a b"]` and `["a", "b"]` render differently and an
 * approval of one never covers the other. An approved line is glob-escaped,
 * so a `*` inside an approved argument stays a literal `*`.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import { compileGlob } from "../../core/glob.ts";

const METACHARACTERS = /[;&|`$<>\n\r\0]/;
const NEEDS_QUOTES = /[\s'"\\]/;
const GLOB_SPECIAL = /[\\*?[\]]/g;
// Commands may contain `/`; a newline cannot occur in a matchable line, so it
// is a safe separator that lets `*` span slashes.
const LINE_SEPARATOR = "\n";

/**
 * Tells whether a string contains a shell metacharacter that disqualifies a
 * command line from matching any allowance.
 *
 * @param s A command or an argument.
 * @returns `true` when it contains `;` `&` `|` `` ` `` `$` `<` `>`, a newline,
 * a carriage return or NUL.
 *
 * @example Spot a command chain
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasShellMetacharacter } from "./command_line.ts";
 * assert.ok(hasShellMetacharacter("status; rm -rf ~"));
 * assert.ok(!hasShellMetacharacter("--oneline"));
 * ```
 */
export function hasShellMetacharacter(s: string): boolean {
  return METACHARACTERS.test(s);
}

/**
 * Renders a command and its arguments as one line: words joined by single
 * spaces; a word that is empty or contains whitespace, a quote or a
 * backslash is single-quoted (an inner `'` becomes `'\''`).
 *
 * @param command The program.
 * @param args Its arguments.
 * @returns The line, or `null` when any word has a shell metacharacter.
 *
 * @example Render argv
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderCommandLine } from "./command_line.ts";
 * assert.equal(renderCommandLine("git", ["commit", "-m", "a b"]), "git commit -m 'a b'");
 * assert.equal(renderCommandLine("sh", ["-c", "id; ls"]), null);
 * ```
 */
export function renderCommandLine(
  command: string,
  args: readonly string[],
): string | null {
  const words = [command, ...args];
  if (words.some(hasShellMetacharacter)) return null;
  return words.map(renderWord).join(" ");
}

/**
 * Escapes the glob metacharacters (`\ * ? [ ]`) of a literal.
 *
 * @param literal Any text.
 * @returns A glob pattern that matches exactly `literal`.
 *
 * @example Keep an approved star literal
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeGlob } from "./command_line.ts";
 * assert.equal(escapeGlob("rm *.log"), "rm \\*.log");
 * ```
 */
export function escapeGlob(literal: string): string {
  return literal.replace(GLOB_SPECIAL, (c) => `\\${c}`);
}

/**
 * The `command_pattern` text that matches exactly one command line.
 *
 * @param command The program.
 * @param args Its arguments.
 * @returns The escaped rendering, or `null` when the line has a shell
 * metacharacter (such a line can never be approved for reuse).
 *
 * @example Approve `git status` exactly
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandPatternFor } from "./command_line.ts";
 * assert.equal(commandPatternFor("git", ["status"]), "git status");
 * assert.equal(commandPatternFor("ls", ["*"]), "ls \\*");
 * ```
 */
export function commandPatternFor(
  command: string,
  args: readonly string[],
): string | null {
  const line = renderCommandLine(command, args);
  return line === null ? null : escapeGlob(line);
}

/**
 * Matches a command line against a `command_pattern`. `*` spans any run of
 * characters (slashes and spaces included); a pattern ending in ` *` also
 * matches its bare prefix (`cargo *` matches `cargo`). A line with a shell
 * metacharacter, a `..` path segment or a NUL never matches; an invalid
 * pattern matches nothing.
 *
 * @param pattern The allowance's command glob.
 * @param command The program.
 * @param args Its arguments.
 * @returns `true` when the pattern covers the line.
 *
 * @example Wildcards and bypass attempts
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesCommandPattern } from "./command_line.ts";
 * assert.ok(matchesCommandPattern("cargo *", "cargo", []));
 * assert.ok(matchesCommandPattern("cargo *", "cargo", ["build"]));
 * assert.ok(!matchesCommandPattern("git status", "git", ["status;", "rm"]));
 * ```
 */
export function matchesCommandPattern(
  pattern: string,
  command: string,
  args: readonly string[],
): boolean {
  const line = renderCommandLine(command, args);
  if (line === null || pattern.includes(LINE_SEPARATOR)) return false;
  if (globMatches(pattern, line)) return true;
  return pattern.endsWith(" *") && globMatches(pattern.slice(0, -2), line);
}

function renderWord(word: string): string {
  if (word !== "" && !NEEDS_QUOTES.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

function globMatches(pattern: string, subject: string): boolean {
  try {
    return compileGlob(pattern, { separator: LINE_SEPARATOR }).matches(subject);
  } catch (err) {
    // silent-ok: an invalid pattern (GLOB_INVALID) grants nothing; anything
    // else is a real failure and propagates.
    if (KernelError.is(err, "GLOB_INVALID")) return false;
    throw err;
  }
}
