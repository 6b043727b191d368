/**
 * A small glob matcher for the `glob` and `grep` tools (capsules import only
 * the SDK, so the kernel's matcher is out of reach).
 *
 * Paths are `/`-separated and relative to the search root. `*` matches any
 * run of characters within one segment, `?` one character, `[abc]`/`[a-z]`
 * one of a set (`[!…]`/`[^…]` negated), `{a,b}` either alternative (expanded
 * first, so alternatives may hold `/`; at most 64 expansions), `\x` the
 * character `x`. `**` as a whole segment matches zero or more segments:
 * `**` then `/*.ts` matches `a.ts` and `x/y/a.ts`; `src/**` matches `src`
 * and everything under it. There is no dot-file rule.
 *
 * @module
 */

/** A compiled pattern. */
export interface GlobMatcher {
  /** Whether a relative path matches. */
  matches(rel: string): boolean;
  /** Whether a directory (relative path, `""` = the root) may hold a match. */
  mayContain(dir: string): boolean;
  /** Every literal segment the patterns name (to decide what not to skip). */
  readonly literals: ReadonlySet<string>;
}

const MAX_EXPANSIONS = 64;

/**
 * Expands `{a,b}` alternatives (nested allowed).
 *
 * @throws {Error} On unbalanced braces or too many expansions.
 */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") {
      if (depth === 0) open = i;
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0) {
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        const bounds = [open, ...commas, i];
        const out: string[] = [];
        for (let k = 0; k + 1 < bounds.length; k++) {
          const alt = pattern.slice(bounds[k]! + 1, bounds[k + 1]);
          for (const rest of expandBraces(head + alt + tail)) {
            out.push(rest);
            if (out.length > MAX_EXPANSIONS) {
              throw new Error(
                `the pattern expands to more than ${MAX_EXPANSIONS} alternatives; use fewer {a,b} groups`,
              );
            }
          }
        }
        return out;
      }
    } else if (c === "," && depth === 1) {
      commas.push(i);
    }
  }
  if (depth !== 0) throw new Error("the pattern has an unclosed '{'");
  return [pattern];
}

const SPECIAL = /[.+^${}()|[\]\\/]/;

function segmentSource(seg: string): string {
  let out = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "\\" && i + 1 < seg.length) {
      const n = seg[++i]!;
      out += SPECIAL.test(n) || "*?".includes(n) ? `\\${n}` : n;
    } else if (c === "*") {
      out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let body = seg.slice(i + 1, end);
      const negated = body.startsWith("!") || body.startsWith("^");
      if (negated) body = body.slice(1);
      body = body.replace(/\\(?!.)/g, "\\\\").replace(/[\]^]/g, "\\$&");
      out += `[${negated ? "^/" : ""}${body}]`;
      i = end;
    } else {
      out += SPECIAL.test(c) ? `\\${c}` : c;
    }
  }
  return out;
}

function patternSource(segments: readonly string[]): string {
  let out = "";
  let afterGlobstar = false;
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === "**") {
      if (last) out += i === 0 ? ".*" : "(?:/.*)?";
      else out += i === 0 ? "(?:.*/)?" : "/(?:.*/)?";
      afterGlobstar = true;
      return;
    }
    out += (i === 0 || afterGlobstar ? "" : "/") + segmentSource(seg);
    afterGlobstar = false;
  });
  return `^${out}$`;
}

function isLiteral(seg: string): boolean {
  return !/[*?[\\]/.test(seg);
}

/**
 * Compiles a glob pattern (syntax in the module doc).
 *
 * @param pattern The pattern, relative to the search root.
 * @param options `caseInsensitive` matching.
 * @throws {Error} When the pattern is empty, absolute, climbs with `..`, or
 *   its braces are malformed.
 */
export function compileGlob(
  pattern: string,
  options: { caseInsensitive?: boolean } = {},
): GlobMatcher {
  const flags = options.caseInsensitive ? "i" : "";
  const cleaned = pattern.replace(/^\.\//, "");
  if (cleaned === "") throw new Error("the pattern is empty");
  if (cleaned.startsWith("/")) {
    throw new Error(
      "the pattern must be relative to the search path (e.g. '**/*.ts'), not absolute",
    );
  }
  const alternatives = expandBraces(cleaned).map((p) =>
    p.split("/").filter((s, i, all) => s !== "" || i === all.length - 1)
  );
  if (alternatives.some((segs) => segs.includes(".."))) {
    throw new Error(
      "the pattern must not contain '..'; set 'path' to search elsewhere in the workspace",
    );
  }
  const compiled = alternatives.map((segs) => ({
    whole: new RegExp(patternSource(segs), flags),
    parts: segs.map((s) =>
      s === "**" ? null : new RegExp(`^${segmentSource(s)}$`, flags)
    ),
  }));
  const literals = new Set(alternatives.flat().filter(isLiteral));
  return {
    literals,
    matches: (rel) => compiled.some((c) => c.whole.test(rel)),
    mayContain(dir) {
      const segs = dir === "" ? [] : dir.split("/");
      return compiled.some(({ parts }) => {
        for (let j = 0; j < segs.length; j++) {
          const p = parts[j];
          if (p === null) return true;
          if (p === undefined || j >= parts.length - 1) return false;
          if (!p.test(segs[j]!)) return false;
        }
        return true;
      });
    },
  };
}
