/**
 * Resource patterns of capability tokens (reference §6.4): a pattern with
 * `*`, `?` or `[` is a glob (`kernel/core/glob.ts`), anything else is an exact
 * string. Also the rule that decides whether one pattern provably lies inside
 * another, used to refuse widening attenuations.
 *
 * Security model: traversal is refused on both sides. A pattern whose text has
 * a `..` segment — split on `/` and `\`, after decoding `%2e`, `%2f` and `%5c`,
 * so `%2e%2e` and `..%2f` count too — is rejected, and a resource with one
 * never matches, not even an exact pattern. Backslashes, NUL and other control
 * characters are refused in patterns (no escape games), and matching is
 * lexical: callers canonicalise paths before asking. {@linkcode patternCovers}
 * answers `true` only when it can prove the child narrower; when in doubt it
 * refuses.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { compileGlob, type Glob, isGlobPattern } from "../core/glob.ts";

/**
 * Longest accepted pattern, in UTF-16 code units.
 *
 * @example Refuse an over-long pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileResourcePattern, MAX_PATTERN_LENGTH } from "./resource_pattern.ts";
 * assert.throws(() => compileResourcePattern("x".repeat(MAX_PATTERN_LENGTH + 1)));
 * ```
 */
export const MAX_PATTERN_LENGTH = 4096;

/**
 * Longest resource that can match anything, in UTF-16 code units.
 *
 * @example An over-long resource never matches
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileResourcePattern, MAX_RESOURCE_LENGTH } from "./resource_pattern.ts";
 * const all = compileResourcePattern("**");
 * assert.ok(!all.matches("a".repeat(MAX_RESOURCE_LENGTH + 1)));
 * ```
 */
export const MAX_RESOURCE_LENGTH = 16_384;

/** A compiled resource pattern. */
export interface ResourcePattern {
  /** The pattern text as given. */
  readonly pattern: string;
  /** `true` when the text is a glob, `false` for an exact string. */
  readonly isGlob: boolean;
  /**
   * Tells whether `resource` is matched. A resource with a traversal segment,
   * a NUL, or longer than {@linkcode MAX_RESOURCE_LENGTH} never matches.
   *
   * @param resource The concrete resource, e.g. `file:///ws/a.txt`.
   * @returns `true` when the pattern matches it.
   */
  matches(resource: string): boolean;
}

// deno-lint-ignore no-control-regex -- control characters are what it rejects
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/**
 * Tells whether a pattern or resource text has a `..` segment, also when the
 * dots or separators are percent-encoded, or a (possibly encoded) NUL.
 *
 * @param text The pattern or resource.
 * @returns `true` when it could walk out of a prefix.
 *
 * @example Encoded traversal is still traversal
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasTraversal } from "./resource_pattern.ts";
 * assert.ok(hasTraversal("file:///ws/a/../../etc"));
 * assert.ok(hasTraversal("file:///ws/%2E%2e/etc"));
 * assert.ok(hasTraversal("file:///ws/..%2fetc"));
 * assert.ok(!hasTraversal("file:///ws/file..txt"));
 * ```
 */
export function hasTraversal(text: string): boolean {
  if (text.includes("\0") || /%00/i.test(text)) return true;
  const decoded = text.replace(/%2e/gi, ".").replace(/%2f/gi, "/")
    .replace(/%5c/gi, "\\");
  return decoded.split(/[/\\]/).includes("..");
}

function refuse(pattern: unknown, why: string): KernelError {
  const shown = typeof pattern === "string"
    ? JSON.stringify(
      pattern.length > 120 ? `${pattern.slice(0, 120)}…` : pattern,
    )
    : typeof pattern;
  return new KernelError(
    "INVALID_INPUT",
    `Invalid resource pattern ${shown}: ${why}`,
  );
}

/**
 * Validates and compiles a resource pattern.
 *
 * @param pattern The pattern text, e.g. `file:///ws/**` or `mcp://memory:read_graph`.
 * @returns The compiled {@linkcode ResourcePattern}.
 * @throws {KernelError} `INVALID_INPUT` when it is not a string, empty, longer
 * than {@linkcode MAX_PATTERN_LENGTH}, has a backslash or control character,
 * or a traversal segment; `GLOB_INVALID` when a glob is malformed.
 *
 * @example Globs and exact patterns
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileResourcePattern } from "./resource_pattern.ts";
 * const tools = compileResourcePattern("mcp://*:read_*");
 * assert.ok(tools.matches("mcp://memory:read_graph"));
 * const one = compileResourcePattern("file:///ws/a.txt");
 * assert.ok(one.matches("file:///ws/a.txt") && !one.matches("file:///ws/b.txt"));
 * ```
 */
export function compileResourcePattern(pattern: string): ResourcePattern {
  if (typeof pattern !== "string") throw refuse(pattern, "not a string");
  if (pattern.length === 0) throw refuse(pattern, "it is empty");
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw refuse(pattern, `it is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  if (FORBIDDEN.test(pattern)) {
    throw refuse(pattern, "it has a backslash or a control character");
  }
  if (hasTraversal(pattern)) {
    throw refuse(pattern, "it has a '..' segment (also when percent-encoded)");
  }
  const glob: Glob | null = isGlobPattern(pattern)
    ? compileGlob(pattern)
    : null;
  return Object.freeze({
    pattern,
    isGlob: glob !== null,
    matches(resource: string): boolean {
      if (typeof resource !== "string") return false;
      if (resource.length > MAX_RESOURCE_LENGTH || hasTraversal(resource)) {
        return false;
      }
      return glob === null ? resource === pattern : glob.matches(resource);
    },
  });
}

/**
 * Tells whether every resource `child` can match is provably matched by
 * `parent`. The accepted cases, all sound:
 *
 * - the same pattern text;
 * - an exact `child` that `parent` matches;
 * - `parent` is `**`;
 * - `parent` is `<prefix>/**` and `child` is a glob whose text starts with
 *   `<prefix>/` (the shared segments are identical, and the parent's trailing
 *   `**` matches whatever the child's remaining segments match).
 *
 * Anything else — such as `mcp://*:*` versus `mcp://memory:*`, which is
 * narrower but not provably so by this rule — is `false`: when in doubt,
 * refuse.
 *
 * @param parent The wider pattern.
 * @param child The proposed narrower pattern.
 * @returns `true` only when `child` ⊆ `parent` is proven.
 *
 * @example Narrowing and widening
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileResourcePattern as p, patternCovers } from "./resource_pattern.ts";
 * assert.ok(patternCovers(p("file:///ws/**"), p("file:///ws/src/*.ts")));
 * assert.ok(patternCovers(p("file:///ws/**"), p("file:///ws/a.txt")));
 * assert.ok(!patternCovers(p("file:///ws/**"), p("file:///**")));
 * assert.ok(!patternCovers(p("file:///ws/**"), p("file:///wsx/**")));
 * ```
 */
export function patternCovers(
  parent: ResourcePattern,
  child: ResourcePattern,
): boolean {
  if (child.pattern === parent.pattern) return true;
  if (!child.isGlob) return parent.matches(child.pattern);
  if (!parent.isGlob) return false;
  if (parent.pattern === "**") return true;
  if (!parent.pattern.endsWith("/**")) return false;
  const prefix = parent.pattern.slice(0, -2);
  return child.pattern.length > prefix.length &&
    child.pattern.startsWith(prefix);
}
