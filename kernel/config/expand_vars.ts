/**
 * `${VAR}` expansion in the string values of a parsed config file.
 *
 * Security model: a workspace file comes from an untrusted repository, so it
 * may only reference `ASTRID_*` and `ANTHROPIC_*` variables (reference §9.2);
 * anything else (say `${AWS_SECRET_ACCESS_KEY}`) is an error. Keys whose
 * values were expanded are reported as sensitive so that no error message
 * echoes them.
 *
 * @module
 */
import type { Env } from "../core/ports.ts";
import type { ConfigIssue } from "./issues.ts";

/** Options of {@linkcode expandVars}. */
export interface ExpandVarsOptions {
  /** Where variable values come from. */
  env: Env;
  /** The file, for issues. */
  file: string;
  /** Which variable names may be referenced; every name when absent. */
  allow?: (name: string) => boolean;
}

/** The expanded values, problems, and the keys that used a variable. */
export interface ExpandVarsResult {
  /** A copy of the input with `${VAR}` replaced (null-prototype tables). */
  readonly values: Record<string, unknown>;
  /** Unset or disallowed variables, with file and dotted key. */
  readonly issues: readonly ConfigIssue[];
  /** Dotted keys whose value contains an expanded variable. */
  readonly expandedKeys: readonly string[];
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Tells whether a workspace file may reference variable `name`.
 *
 * @param name A variable name.
 * @returns `true` for `ASTRID_*` and `ANTHROPIC_*`.
 *
 * @example Only Astrid and Anthropic variables
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWorkspaceVariable } from "./expand_vars.ts";
 * assert(isWorkspaceVariable("ASTRID_MODEL"));
 * assert(!isWorkspaceVariable("HOME"));
 * ```
 */
export function isWorkspaceVariable(name: string): boolean {
  return name.startsWith("ASTRID_") || name.startsWith("ANTHROPIC_");
}

/**
 * Replaces every `${NAME}` in string values (also inside arrays) by the
 * variable's value. Other `$` text is left as it is.
 *
 * @param values The parsed file.
 * @param options The env port, the file name and the allowed names.
 * @returns The expanded copy, issues for unset or disallowed variables, and the
 *   keys that were expanded.
 *
 * @example Expand a key reference
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandVars } from "./expand_vars.ts";
 * const env = { get: (n: string) => (n === "ANTHROPIC_API_KEY" ? "sk-1" : undefined) };
 * const r = expandVars({ model: { api_key: "${ANTHROPIC_API_KEY}" } }, { env, file: "/u.toml" });
 * assert((r.values.model as { api_key: string }).api_key === "sk-1");
 * assert(r.expandedKeys[0] === "model.api_key");
 * ```
 */
export function expandVars(
  values: Readonly<Record<string, unknown>>,
  options: ExpandVarsOptions,
): ExpandVarsResult {
  const issues: ConfigIssue[] = [];
  const expandedKeys = new Set<string>();
  const allow = options.allow ?? (() => true);

  const expandString = (text: string, key: string): string =>
    text.replace(REFERENCE, (whole, name: string) => {
      if (!allow(name)) {
        issues.push({
          file: options.file,
          key,
          message:
            `may not reference \${${name}} (only ASTRID_* and ANTHROPIC_* variables)`,
        });
        return whole;
      }
      const value = options.env.get(name);
      if (value === undefined) {
        issues.push({
          file: options.file,
          key,
          message: `references unset variable \${${name}}`,
        });
        return whole;
      }
      expandedKeys.add(key);
      return value;
    });

  const expand = (value: unknown, key: string): unknown => {
    if (typeof value === "string") return expandString(value, key);
    if (Array.isArray(value)) return value.map((item) => expand(item, key));
    if (
      typeof value === "object" && value !== null && !(value instanceof Date)
    ) {
      return expandTable(value as Readonly<Record<string, unknown>>, key);
    }
    return value;
  };

  const expandTable = (
    table: Readonly<Record<string, unknown>>,
    prefix: string,
  ) => {
    const copy: Record<string, unknown> = Object.create(null);
    for (const name of Object.keys(table)) {
      copy[name] = expand(
        table[name],
        prefix === "" ? name : `${prefix}.${name}`,
      );
    }
    return copy;
  };

  return {
    values: expandTable(values, ""),
    issues,
    expandedKeys: [...expandedKeys],
  };
}
