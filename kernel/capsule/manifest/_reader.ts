/**
 * Issue-collecting readers for parsed TOML: each check records a problem
 * (file, dotted key, what was expected) and returns `undefined` instead of
 * throwing, so one pass reports every problem.
 *
 * @module
 */
import { kindOf, showValue, suggest } from "../../config/issues.ts";
import type { ManifestIssue } from "./manifest_types.ts";

/** A parsed TOML table. */
export type Table = Record<string, unknown>;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Collects issues for one manifest file. */
export class Reader {
  /** Every problem found so far, in discovery order. */
  readonly issues: ManifestIssue[] = [];
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  /** Records a problem at `key`. */
  fail(key: string, message: string): undefined {
    this.issues.push({ file: this.#file, key, message });
    return undefined;
  }

  /** Records "expected X, got Y". */
  expected(key: string, what: string, got: unknown): undefined {
    return this.fail(key, `expected ${what}, got ${describe(got)}`);
  }

  /** Returns `value` as a table, or records a problem. */
  table(value: unknown, key: string): Table | undefined {
    return isTable(value) ? value : this.expected(key, "a table", value);
  }

  /** Records every key of `t` that is not in `allowed`, with a suggestion. */
  known(t: Table, key: string, allowed: readonly string[]): void {
    for (const k of Object.keys(t)) {
      if (allowed.includes(k)) continue;
      const hint = suggest(k, allowed);
      const list = allowed.length === 0
        ? "no keys are allowed here"
        : `expected one of ${allowed.join(", ")}`;
      this.fail(
        join(key, k),
        `unknown key '${k}' (${list}${
          hint === undefined ? "" : `; did you mean '${hint}'?`
        })`,
      );
    }
  }

  /** Reads an optional string field; `pattern` adds a format check. */
  string(
    t: Table,
    key: string,
    field: string,
    check?: { test: (s: string) => boolean; what: string },
  ): string | undefined {
    const v = t[field];
    if (v === undefined) return undefined;
    const at = join(key, field);
    if (typeof v !== "string") return this.expected(at, "a string", v);
    if (check !== undefined && !check.test(v)) {
      return this.expected(at, check.what, v);
    }
    return v;
  }

  /** Reads a required string field. */
  required(
    t: Table,
    key: string,
    field: string,
    check?: { test: (s: string) => boolean; what: string },
  ): string | undefined {
    if (t[field] === undefined) {
      return this.fail(join(key, field), `missing required key '${field}'`);
    }
    return this.string(t, key, field, check);
  }

  /** Reads an optional boolean field (default `fallback`). */
  boolean(t: Table, key: string, field: string, fallback: boolean): boolean {
    const v = t[field];
    if (v === undefined) return fallback;
    if (typeof v === "boolean") return v;
    this.expected(join(key, field), "a boolean", v);
    return fallback;
  }

  /** Reads an optional list of strings (default `[]`), checking each entry. */
  strings(
    t: Table,
    key: string,
    field: string,
    check?: { test: (s: string) => boolean; what: string },
  ): string[] {
    const v = t[field];
    if (v === undefined) return [];
    const at = join(key, field);
    if (!Array.isArray(v)) {
      this.expected(at, "an array of strings", v);
      return [];
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== "string") {
        this.expected(`${at}[${i}]`, "a string", item);
      } else if (check !== undefined && !check.test(item)) {
        this.expected(`${at}[${i}]`, check.what, item);
      } else out.push(item);
    });
    return out;
  }

  /** Reads an optional array of tables (`[[x]]`), returning `[key, table]` pairs. */
  tables(root: Table, field: string): [string, Table][] {
    const v = root[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.expected(field, `an array of tables ([[${field}]])`, v);
      return [];
    }
    const out: [string, Table][] = [];
    v.forEach((item, i) => {
      const t = this.table(item, `${field}[${i}]`);
      if (t !== undefined) out.push([`${field}[${i}]`, t]);
    });
    return out;
  }
}

/** Tells whether a parsed value is a TOML table (not an array or a date). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) && !(value instanceof Date);
}

/** Appends `k` to a dotted key, quoting it when it is not a bare TOML key. */
export function join(key: string, k: string): string {
  const part = BARE_KEY.test(k) ? k : JSON.stringify(k);
  return key === "" ? part : `${key}.${part}`;
}

/** "an integer (42)", "a string ('x')", "a table". */
export function describe(value: unknown): string {
  const kind = kindOf(value);
  const shown = showValue(value);
  return shown === kind ? kind : `${kind} (${shown})`;
}

/**
 * A relative path inside the capsule: non-empty, not absolute, forward
 * slashes, no `.`/`..`/empty components, no NUL or backslash.
 */
export const RELATIVE_PATH: {
  test: (s: string) => boolean;
  what: string;
} = {
  test: (s) =>
    s !== "" && !s.startsWith("/") && !/^[A-Za-z]:/.test(s) &&
    !/[\0\\]/.test(s) &&
    s.split("/").every((p) => p !== "" && p !== "." && p !== ".."),
  what:
    "a relative path inside the capsule (no leading '/', no '..', '.' or empty components)",
};

/** Lower-case identifier `^[a-z][a-z0-9-]*$` (namespaces, interface names). */
export const IDENTIFIER: { test: (s: string) => boolean; what: string } = {
  test: (s) => /^[a-z][a-z0-9-]*$/.test(s),
  what: "a name matching ^[a-z][a-z0-9-]*$",
};

/** A non-empty name without whitespace or `/`. */
export const NAME: { test: (s: string) => boolean; what: string } = {
  test: (s) => /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(s),
  what:
    "a name of 1-128 characters of [A-Za-z0-9._:-] starting with a letter or digit",
};

/** Tells whether `s` contains an ASCII control character (NUL to US, or DEL). */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
