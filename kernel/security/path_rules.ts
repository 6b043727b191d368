/**
 * Path rules of the security policy: lexical canonicalisation of the paths an
 * action names, and the `denied_paths` / `allowed_paths` glob lists.
 *
 * Security model: rules are checked on the canonical form only, so `//`, `.`
 * and trailing slashes cannot dodge a pattern. A `..` component (split on `/`
 * and, as defence in depth, on `\`) is never resolved but refused as
 * traversal, as are relative paths, NUL characters and paths over 4096 bytes.
 * The check is lexical: symbolic links are the file-system layer's concern.
 * Deny beats allow. A pattern without glob metacharacters covers the path and
 * everything below it (`/home/u/.ssh` also denies `/home/u/.ssh/id_rsa`); an
 * invalid or relative pattern is a `CONFIG_INVALID` error at construction,
 * never a pattern that silently matches nothing.
 *
 * @module
 */
import { memo } from "../core/bounded_memo.ts";
import { KernelError } from "../core/errors.ts";
import { compileGlob, type Glob, isGlobPattern } from "../core/glob.ts";

/** The longest path accepted, in UTF-8 bytes (Linux `PATH_MAX`). */
export const MAX_PATH_BYTES = 4096;

/** The result of {@linkcode canonicalizePath}. */
export type CanonicalPath =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string };

/** A path refused by {@linkcode PathRules.check}. */
export interface PathBlock {
  /** The rule: `invalid_path`, `denied_paths` or `allowed_paths`. */
  readonly rule: "invalid_path" | "denied_paths" | "allowed_paths";
  /** Why, naming the path and the pattern. */
  readonly reason: string;
  /** The denied pattern that matched, for `denied_paths`. */
  readonly entry?: string;
}

/** Options of {@linkcode PathRules}. */
export interface PathRulesOptions {
  /** Globs never touched. Empty or `undefined`: nothing is denied. */
  readonly denied?: readonly string[];
  /** When non-empty, only paths matching one of these are allowed; empty or `undefined`: no restriction. */
  readonly allowed?: readonly string[];
  /** Config key prefix named in errors; defaults to `security.policy`. */
  readonly keyPrefix?: string;
}

const ENCODER = new TextEncoder();

/**
 * Canonicalises an absolute POSIX path lexically: collapses `//` and `.`
 * components and drops a trailing `/`. Refuses (never resolves) `..`.
 *
 * @param p The path as the action named it.
 * @returns `{ok: true, path}` or `{ok: false, reason}` for a relative path, a
 * `..` component, a NUL or a path over {@linkcode MAX_PATH_BYTES}.
 * @throws {TypeError} When `p` is not a string.
 *
 * @example Canonical forms and refusals
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalizePath } from "./path_rules.ts";
 * assert.deepEqual(canonicalizePath("/ws//src/./a.ts/"), { ok: true, path: "/ws/src/a.ts" });
 * assert.equal(canonicalizePath("/ws/../etc/passwd").ok, false);
 * assert.equal(canonicalizePath("src/a.ts").ok, false);
 * ```
 */
export function canonicalizePath(p: string): CanonicalPath {
  if (typeof p !== "string") throw new TypeError("Path is not a string");
  // Asked several times per gate decision (policy, grants, the door): a
  // pure function of the string, remembered (bounded, answers frozen).
  return memo(canonicalPaths, p, canonicalizeNow);
}

const canonicalPaths = new Map<string, CanonicalPath>();

function canonicalizeNow(p: string): CanonicalPath {
  const shown = JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);
  if (p.includes("\0")) {
    return { ok: false, reason: `Path ${shown} contains a NUL character` };
  }
  const bytes = ENCODER.encode(p).length;
  if (bytes > MAX_PATH_BYTES) {
    return {
      ok: false,
      reason:
        `Path is ${bytes} bytes long, over the ${MAX_PATH_BYTES}-byte limit`,
    };
  }
  if (!p.startsWith("/")) {
    return { ok: false, reason: `Path ${shown} is not absolute` };
  }
  const parts = p.split("/");
  if (parts.includes("..") || p.split("\\").includes("..")) {
    return { ok: false, reason: `Path ${shown} has a '..' component` };
  }
  const kept = parts.filter((s) => s !== "" && s !== ".");
  return { ok: true, path: `/${kept.join("/")}` };
}

/**
 * The compiled `denied_paths` and `allowed_paths` lists.
 *
 * @example Deny beats allow
 * ```ts
 * import assert from "node:assert/strict";
 * import { PathRules } from "./path_rules.ts";
 * const rules = new PathRules({ denied: ["/ws/.git/**"], allowed: ["/ws"] });
 * assert.equal(rules.check("/ws/src/a.ts"), null);
 * assert.equal(rules.check("/ws/.git/config")?.rule, "denied_paths");
 * assert.equal(rules.check("/tmp/x")?.rule, "allowed_paths");
 * ```
 */
export class PathRules {
  #denied: readonly Glob[];
  #allowed: readonly Glob[];
  #answers = new Map<string, PathBlock | null>();

  /**
   * Compiles both lists.
   *
   * @param options The denied and allowed patterns.
   * @throws {KernelError} `CONFIG_INVALID` naming the key and the pattern when a
   * pattern is not a valid glob, or is neither absolute nor starts with `**`.
   */
  constructor(options: PathRulesOptions = {}) {
    const prefix = options.keyPrefix ?? "security.policy";
    this.#denied = (options.denied ?? []).map((p) =>
      compilePathPattern(p, `${prefix}.denied_paths`)
    );
    this.#allowed = (options.allowed ?? []).map((p) =>
      compilePathPattern(p, `${prefix}.allowed_paths`)
    );
  }

  /**
   * Checks one path: canonical form, then denied, then allowed.
   *
   * @param path The path as the action named it.
   * @returns `null` when the path passes, else why it is blocked.
   */
  check(path: string): PathBlock | null {
    // The rules never change: remember answers (a decision asks for the
    // same paths again and again).
    return memo(this.#answers, path, (p) => this.#check(p));
  }

  #check(path: string): PathBlock | null {
    const canonical = canonicalizePath(path);
    if (!canonical.ok) {
      return { rule: "invalid_path", reason: canonical.reason };
    }
    const p = canonical.path;
    const denied = this.#denied.find((g) => g.matches(p));
    if (denied !== undefined) {
      return {
        rule: "denied_paths",
        reason: `Path '${p}' matches denied pattern '${denied.pattern}'`,
        entry: denied.pattern,
      };
    }
    if (this.#allowed.length > 0 && !this.#allowed.some((g) => g.matches(p))) {
      return {
        rule: "allowed_paths",
        reason: `Path '${p}' matches no allowed_paths pattern`,
      };
    }
    return null;
  }
}

/** Normalises a pattern like a path, then compiles it; a literal covers its subtree. */
function compilePathPattern(pattern: string, key: string): Glob {
  const fail = (why: string, cause?: unknown): KernelError =>
    new KernelError(
      "CONFIG_INVALID",
      `Cannot use ${key} pattern ${JSON.stringify(pattern)}: ${why}`,
      { data: { key, pattern }, cause },
    );
  if (typeof pattern !== "string") throw fail("it is not a string");
  const absolute = pattern.startsWith("/");
  if (!absolute && !pattern.startsWith("**")) {
    throw fail("it must be absolute or start with '**'");
  }
  const kept = pattern.split("/").filter((s) => s !== "" && s !== ".");
  let normal = absolute ? `/${kept.join("/")}` : kept.join("/");
  if (!isGlobPattern(normal)) normal = normal === "/" ? "/**" : `${normal}/**`;
  try {
    return { ...compileGlob(normal), pattern };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw fail(why, err);
  }
}
