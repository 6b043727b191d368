/**
 * Versions and requirements of manifests: exact versions are strict semver
 * 2.0; requirements use Cargo syntax (reference §3.1) and are translated to
 * npm `semver` ranges for matching.
 *
 * Cargo syntax: comma-separated comparators, each `^`, `~`, `=`, `>`, `>=`,
 * `<`, `<=` followed by a (possibly partial) version, a wildcard (`*`, `1.*`,
 * `1.2.*`), or a bare version, which means caret (`1.2` ≡ `^1.2`). npm-only
 * forms (`||`, hyphen ranges, `x` wildcards, spaces between comparators) are
 * refused so that a manifest means the same thing to every tool.
 *
 * @module
 */
import semver from "semver";

/** The part of the untyped npm `semver` package we use. */
interface SemverApi {
  validRange(range: string): string | null;
  satisfies(version: string, range: string): boolean;
}
const api = semver as unknown as SemverApi;

const NUM = "(?:0|[1-9]\\d*)";
const IDENT = "[0-9A-Za-z-]+";
const EXACT = new RegExp(
  `^${NUM}\\.${NUM}\\.${NUM}(?:-${IDENT}(?:\\.${IDENT})*)?(?:\\+${IDENT}(?:\\.${IDENT})*)?$`,
);
const COMPARATOR = new RegExp(
  `^(\\^|~|=|>=|<=|>|<)?\\s*(${NUM}(?:\\.(?:${NUM}|\\*)(?:\\.(?:${NUM}|\\*)(?:-${IDENT}(?:\\.${IDENT})*)?)?)?|\\*)$`,
);
const NUMERIC_PRERELEASE = /-(?:.*\.)?0\d/;

/**
 * Tells whether `version` is an exact full semver version
 * (`MAJOR.MINOR.PATCH[-pre][+build]`, no `v` prefix, no leading zeros).
 *
 * @param version Untrusted text.
 * @returns `true` for e.g. `1.0.0` and `1.2.3-beta.1+b5`; `false` for `1.0`, `latest`, `v1.0.0`.
 *
 * @example Check versions
 * ```ts
 * import assert from "node:assert/strict";
 * import { isExactVersion } from "./semver_rules.ts";
 * assert.ok(isExactVersion("1.2.3-beta.1"));
 * assert.ok(!isExactVersion("1.0"));
 * ```
 */
export function isExactVersion(version: string): boolean {
  return EXACT.test(version) && !NUMERIC_PRERELEASE.test(version);
}

/**
 * Translates a Cargo-style requirement into an npm `semver` range.
 *
 * @param requirement Untrusted text such as `^1.0`, `>=1.2, <2`, `1.*` or `*`.
 * @returns The equivalent npm range, or `null` when the requirement is invalid.
 *
 * @example Translate requirements
 * ```ts
 * import assert from "node:assert/strict";
 * import { toSemverRange } from "./semver_rules.ts";
 * assert.equal(toSemverRange("1.2"), ">=1.2.0 <2.0.0-0");
 * assert.equal(toSemverRange("^1.0 || ^2.0"), null);
 * ```
 */
export function toSemverRange(requirement: string): string | null {
  const parts = requirement.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) return null;
  const translated: string[] = [];
  for (const part of parts) {
    const m = COMPARATOR.exec(part);
    if (m === null) return null;
    const op = m[1] ?? "";
    const version = m[2] ?? "";
    if (version.includes("*") && op !== "" && op !== "=") return null;
    translated.push(
      op === "" && !version.includes("*") ? `^${version}` : `${op}${version}`,
    );
  }
  const range = api.validRange(translated.join(" "));
  return range === null || range === "" ? null : range;
}

/**
 * Tells whether an exact version satisfies an npm range made by
 * {@linkcode toSemverRange}. Pre-releases only match comparators that name a
 * pre-release of the same `MAJOR.MINOR.PATCH` (Cargo and npm agree on this).
 *
 * @param version An exact version.
 * @param range An npm range from {@linkcode toSemverRange}.
 * @returns `true` when it matches.
 *
 * @example Match a version
 * ```ts
 * import assert from "node:assert/strict";
 * import { satisfiesRange, toSemverRange } from "./semver_rules.ts";
 * const range = toSemverRange("^1.0") ?? "";
 * assert.ok(satisfiesRange("1.4.2", range));
 * assert.ok(!satisfiesRange("2.0.0", range));
 * ```
 */
export function satisfiesRange(version: string, range: string): boolean {
  return isExactVersion(version) && api.satisfies(version, range);
}
