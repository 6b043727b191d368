/**
 * Config problems: the issue record, how values are shown in messages, "did
 * you mean" suggestions, and the one error thrown for a batch of issues.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { ErrorCode } from "../core/errors.ts";

/** One problem found while loading: the file (or variable), the key and what is wrong. */
export interface ConfigIssue {
  /** File path, environment variable name, or other layer source. */
  readonly file: string;
  /** Dotted key, or `""` for a problem with the whole file. */
  readonly key: string;
  /** What is wrong, e.g. "expected an integer, got 'abc'". */
  readonly message: string;
}

const MAX_LISTED = 20;
const MAX_SHOWN_CHARS = 60;
const MAX_SHOWN_ITEMS = 8;

/**
 * Builds the single error that reports every issue at once. The message lists
 * up to 20 issues as `file: key: message` (for `CONFIG_WIDENING` the issue
 * message alone, which is a whole sentence); `data.issues` holds all of them.
 *
 * @param code `CONFIG_PARSE`, `CONFIG_INVALID` or `CONFIG_WIDENING`.
 * @param issues At least one issue.
 * @returns The error to throw.
 *
 * @example Report two problems
 * ```ts
 * import assert from "node:assert/strict";
 * import { configError } from "./issues.ts";
 * const err = configError("CONFIG_INVALID", [
 *   { file: "/a.toml", key: "x", message: "unknown key 'x'" },
 *   { file: "/a.toml", key: "y", message: "unknown key 'y'" },
 * ]);
 * assert(err.message.includes("2 problems"));
 * ```
 */
export function configError(
  code: ErrorCode,
  issues: readonly ConfigIssue[],
): KernelError {
  const widening = code === "CONFIG_WIDENING";
  const lines = issues.slice(0, MAX_LISTED).map((i) =>
    widening ? i.message : formatIssue(i)
  );
  if (issues.length > MAX_LISTED) {
    lines.push(`… and ${issues.length - MAX_LISTED} more`);
  }
  const head = widening
    ? "Cannot apply the workspace config as it loosens security settings"
    : "Cannot load config";
  const message = issues.length === 1
    ? `${head}: ${lines[0]}`
    : `${head}: ${issues.length} problems:\n${
      lines.map((l) => `- ${l}`).join("\n")
    }`;
  return new KernelError(code, message, {
    data: { issues: issues.map((i) => ({ ...i })) },
  });
}

function formatIssue(issue: ConfigIssue): string {
  return issue.key === ""
    ? `${issue.file}: ${issue.message}`
    : `${issue.file}: ${issue.key}: ${issue.message}`;
}

/**
 * Names the kind of a parsed TOML value for messages ("a string", "a table").
 *
 * @param value Any parsed value.
 * @returns An article and a type name.
 */
export function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "object") return "a table";
  if (typeof value === "number" && Number.isInteger(value)) return "an integer";
  return typeof value === "string" || typeof value === "number" ||
      typeof value === "boolean"
    ? `a ${typeof value}`
    : `a ${typeof value} value`;
}

/**
 * Shows a value in a message: strings quoted and shortened, lists in brackets,
 * and only the kind when `redact` is set (secrets, expanded variables).
 *
 * @param value Any parsed value.
 * @param redact Show only the kind of the value.
 * @returns A short printable form.
 */
export function showValue(value: unknown, redact = false): string {
  if (value === undefined) return "unset";
  if (redact) return `<${kindOf(value).replace(/^an? /, "")}>`;
  if (typeof value === "string") {
    const cut = value.length > MAX_SHOWN_CHARS
      ? `${value.slice(0, MAX_SHOWN_CHARS)}…`
      : value;
    return `'${cut}'`;
  }
  if (Array.isArray(value)) {
    const shown = value.slice(0, MAX_SHOWN_ITEMS).map((v) => showValue(v));
    if (value.length > MAX_SHOWN_ITEMS) {
      shown.push(`… ${value.length - MAX_SHOWN_ITEMS} more`);
    }
    return `[${shown.join(", ")}]`;
  }
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return kindOf(value);
}

/**
 * Suggests the closest known name to a misspelt one, when one is close enough.
 *
 * @param name The unknown dotted key.
 * @param known Candidate names.
 * @returns The best candidate within a small edit distance, or `undefined`.
 *
 * @example Suggest a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { suggest } from "./issues.ts";
 * assert(suggest("budget.sesion_max_usd", ["budget.session_max_usd"]) === "budget.session_max_usd");
 * assert(suggest("zzz", ["budget.session_max_usd"]) === undefined);
 * ```
 */
export function suggest(
  name: string,
  known: readonly string[],
): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 4)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(name, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `cap`) once every row exceeds `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min(
        (prev[j] ?? cap) + 1,
        (row[j - 1] ?? cap) + 1,
        (prev[j - 1] ?? cap) + cost,
      );
      row.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin >= cap) return cap;
    prev = row;
  }
  return prev[b.length] ?? cap;
}
