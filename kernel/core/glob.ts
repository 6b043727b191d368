/**
 * The one glob matcher of the kernel: file-system path rules, capability
 * resource patterns (`file:///ws/**`, `mcp://*:read_*`) and host patterns.
 *
 * A pattern is split into segments on the separator (default `/`), which
 * always splits: it cannot be escaped or put in a class. In a segment `*`
 * matches any run of characters (none included); `?` exactly one code point;
 * `[abc]`, `[a-z]` one character of the set, negated by `[!…]` or `[^…]`, with
 * a leading `]` and a leading or trailing `-` literal; `\x` the character `x`
 * (`\*`, `\?`, `\[`, `\\`, also inside classes). Anything else matches itself,
 * case-sensitively and without Unicode normalisation.
 *
 * `**` as a whole segment matches zero or more whole segments: segments `a`,
 * `**`, `b` match `a/b`, `a/x/b` and `a/x/y/b`; a trailing `a/**` matches `a`
 * itself, `a/x` and `a/x/y` but not `ab`; `**` alone matches everything. `**`
 * inside a longer segment (`a**`, `**.ts`) is rejected, not read as `*`.
 * Segments may be empty (`file:///x` has two), and `*` matches an empty one,
 * so `a/*` matches `a/`. The empty pattern matches only the empty subject.
 * There is no dot-file rule. Matching is greedy with one backtrack point per
 * level: at most O(pattern × subject) steps, never exponential.
 *
 * Security model: matching is lexical; callers normalise paths and decode
 * URLs first. As defence in depth a subject with a `..` segment (split on the
 * separator, on `/` or on `\`) never matches any pattern, while `file..txt`
 * and `...` are ordinary names; nor does a subject with a NUL. A pattern with
 * a `..` segment or a NUL is rejected with `GLOB_INVALID`.
 *
 * @module
 */
import { KernelError } from "./errors.ts";

/** Options of {@linkcode compileGlob}. */
export interface GlobOptions {
  /** The one-character segment separator. Defaults to `/`. */
  separator?: string;
}

/** A compiled glob pattern. */
export interface Glob {
  /** The pattern as given. */
  readonly pattern: string;
  /** The segment separator in use. */
  readonly separator: string;
  /**
   * Tells whether `subject` matches the pattern. A subject with a `..`
   * segment or a NUL character never matches.
   *
   * @param subject The path, URL or name to test.
   * @returns `true` when it matches.
   */
  matches(subject: string): boolean;
}

type CharToken =
  | { readonly kind: "lit"; readonly cp: number }
  | { readonly kind: "any" }
  | { readonly kind: "star" }
  | {
    readonly kind: "class";
    readonly negated: boolean;
    readonly ranges: ReadonlyArray<readonly [number, number]>;
  };
type Segment = { readonly kind: "globstar" } | {
  readonly kind: "tokens";
  readonly tokens: readonly CharToken[];
};

const RESERVED_SEPARATORS = new Set(["*", "?", "[", "\\", "\0"]);

/**
 * Compiles a glob pattern (syntax in the module doc).
 *
 * @param pattern The pattern.
 * @param options The separator (default `/`).
 * @returns A reusable {@linkcode Glob}.
 * @throws {KernelError} `GLOB_INVALID` when the pattern is malformed: an
 * unclosed or empty `[` class, a reversed range, a trailing lone `\`, an
 * escaped separator, `**` that is not a whole segment, a `..` segment or a
 * NUL character.
 * @throws {RangeError} When the separator is not one character or is one of
 * `*`, `?`, `[`, `\`, NUL.
 *
 * @example Match workspace files
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileGlob } from "./glob.ts";
 * const g = compileGlob("file:///ws/**");
 * assert.ok(g.matches("file:///ws/src/main.ts"));
 * assert.ok(!g.matches("file:///ws/../etc/passwd"));
 * assert.ok(!g.matches("file:///wsx/a"));
 * ```
 *
 * @example Use another separator
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileGlob } from "./glob.ts";
 * const g = compileGlob("*.example.com", { separator: "." });
 * assert.ok(g.matches("api.example.com"));
 * assert.ok(!g.matches("a.b.example.com"));
 * ```
 */
export function compileGlob(pattern: string, options: GlobOptions = {}): Glob {
  const separator = options.separator ?? "/";
  if ([...separator].length !== 1 || RESERVED_SEPARATORS.has(separator)) {
    const shown = JSON.stringify(separator);
    throw new RangeError(`Cannot use ${shown} as a glob separator`);
  }
  const segments = parsePattern(pattern, separator);
  return Object.freeze({
    pattern,
    separator,
    matches(subject: string): boolean {
      if (typeof subject !== "string") throw new TypeError("Not a string");
      if (subject.includes("\0") || hasDotDot(subject, separator)) return false;
      const parts = subject.split(separator).map(codePoints);
      return wildcard(segments, parts, isGlobstar, matchSegment);
    },
  });
}

/**
 * Tells whether `s` contains an unescaped `*`, `?` or `[`, that is, whether it
 * is a pattern rather than a literal.
 *
 * @param s The string to inspect.
 * @returns `true` when it has a glob metacharacter.
 *
 * @example Tell patterns from literals
 * ```ts
 * import assert from "node:assert/strict";
 * import { isGlobPattern } from "./glob.ts";
 * assert.ok(isGlobPattern("src/*.ts"));
 * assert.ok(!isGlobPattern("src/\\*.ts"));
 * ```
 */
export function isGlobPattern(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

function invalid(pattern: string, why: string): KernelError {
  const cut = pattern.length > 120 ? `${pattern.slice(0, 120)}…` : pattern;
  const message = `Invalid glob pattern ${JSON.stringify(cut)}: ${why}`;
  return new KernelError("GLOB_INVALID", message, { data: { pattern } });
}

function dotDot(pattern: string): KernelError {
  return invalid(pattern, "it has a '..' segment");
}

function codePoints(s: string): number[] {
  return Array.from(s, (c) => c.codePointAt(0) ?? 0);
}

function isGlobstar(s: Segment): boolean {
  return s.kind === "globstar";
}

function hasDotDot(s: string, separator: string): boolean {
  for (const sep of new Set([separator, "/", "\\"])) {
    if (s.split(sep).includes("..")) return true;
  }
  return false;
}

function parsePattern(pattern: string, separator: string): Segment[] {
  if (pattern.includes("\0")) throw invalid(pattern, "it contains a NUL");
  if (pattern.split("/").includes("..")) throw dotDot(pattern);
  const raw: string[][] = [[]];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const current = raw[raw.length - 1] as string[];
    if (ch === separator) {
      raw.push([]);
    } else if (ch === "\\") {
      const next = chars[++i];
      if (next === undefined) {
        throw invalid(pattern, "it ends with a lone '\\'");
      }
      if (next === separator) {
        throw invalid(pattern, "it escapes the separator");
      }
      current.push(ch, next);
    } else {
      current.push(ch);
    }
  }
  return raw.map((seg) => parseSegment(seg, pattern));
}

function parseSegment(chars: readonly string[], pattern: string): Segment {
  if (chars.join("") === "**") return { kind: "globstar" };
  const tokens: CharToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") {
      if (chars[i + 1] === "*") throw invalid(pattern, "'**' is not a segment");
      tokens.push({ kind: "star" });
    } else if (ch === "?") {
      tokens.push({ kind: "any" });
    } else if (ch === "[") {
      i = parseClass(chars, i + 1, tokens, pattern);
    } else {
      const lit = ch === "\\" ? chars[++i] as string : ch;
      tokens.push({ kind: "lit", cp: lit.codePointAt(0) ?? 0 });
    }
  }
  const dot = (t: CharToken): boolean => t.kind === "lit" && t.cp === 0x2e;
  if (tokens.length === 2 && tokens.every(dot)) throw dotDot(pattern);
  return { kind: "tokens", tokens };
}

/** Parses a class body from `start` (after `[`); returns the index of its `]`. */
function parseClass(
  chars: readonly string[],
  start: number,
  out: CharToken[],
  pattern: string,
): number {
  let i = start;
  const negated = chars[i] === "!" || chars[i] === "^";
  if (negated) i++;
  const ranges: Array<readonly [number, number]> = [];
  const unclosed = (): KernelError =>
    invalid(pattern, "it has an unclosed or empty '[' class");
  const take = (): number => {
    let ch = chars[i++];
    if (ch === "\\") ch = chars[i++];
    if (ch === undefined) throw unclosed();
    return ch.codePointAt(0) ?? 0;
  };
  let first = true;
  for (;;) {
    if (i >= chars.length) throw unclosed();
    if (chars[i] === "]" && !first) break;
    first = false;
    const lo = take();
    const next = chars[i + 1];
    if (chars[i] === "-" && next !== undefined && next !== "]") {
      i++;
      const hi = take();
      if (hi < lo) throw invalid(pattern, "it has a reversed '[' range");
      ranges.push([lo, hi]);
    } else {
      ranges.push([lo, lo]);
    }
  }
  out.push({ kind: "class", negated, ranges });
  return i;
}

function matchChar(token: CharToken, cp: number): boolean {
  if (token.kind === "lit") return token.cp === cp;
  if (token.kind !== "class") return true;
  const inside = token.ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
  return inside !== token.negated;
}

function matchSegment(segment: Segment, subject: readonly number[]): boolean {
  // A globstar never reaches here: `wildcard` treats it as the star.
  if (segment.kind === "globstar") return true;
  return wildcard(segment.tokens, subject, (t) => t.kind === "star", matchChar);
}

// Greedy matching, one backtrack point: stars match any run, others one item
// via `one`. Exact for that pattern shape; O(pattern × subject) worst case.
function wildcard<P, S>(
  pattern: readonly P[],
  subject: readonly S[],
  isStar: (p: P) => boolean,
  one: (p: P, s: S) => boolean,
): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < subject.length) {
    const item = pattern[p];
    if (item !== undefined && isStar(item)) {
      starP = p++;
      starS = s;
    } else if (item !== undefined && one(item, subject[s] as S)) {
      p++;
      s++;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < pattern.length && isStar(pattern[p] as P)) p++;
  return p === pattern.length;
}
