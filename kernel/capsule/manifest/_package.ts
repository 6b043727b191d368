/**
 * `[package]` (reference §2.1) with the §2.7 version checks.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import { type CapsuleId, parseCapsuleId } from "../../core/ids.ts";
import type { PackageInfo } from "./manifest_types.ts";
import { isTable, type Reader, RELATIVE_PATH, type Table } from "./_reader.ts";
import {
  isExactVersion,
  satisfiesRange,
  toSemverRange,
} from "./semver_rules.ts";

const KEYS = [
  "name",
  "version",
  "description",
  "authors",
  "repository",
  "homepage",
  "documentation",
  "license",
  "license-file",
  "readme",
  "keywords",
  "categories",
  "astrid-version",
  "publish",
  "include",
  "exclude",
  "metadata",
] as const;

const MAX_KEYWORDS = 5;

const URL_CHECK = {
  test: (s: string): boolean => {
    try {
      const u = new URL(s);
      return u.protocol === "https:" || u.protocol === "http:";
    } catch {
      return false; // silent-ok: an unparsable URL is reported as the issue
    }
  },
  what: "an http(s) URL",
};

function capsuleId(r: Reader, raw: string): CapsuleId | undefined {
  try {
    return parseCapsuleId(raw);
  } catch (err) {
    if (!KernelError.is(err, "INVALID_ID")) throw err;
    return r.expected(
      "package.name",
      "a capsule id of 1-64 characters of [a-z0-9-], not starting or ending with '-'",
      raw,
    );
  }
}

function astridVersion(
  r: Reader,
  raw: string | undefined,
  kernelVersion: string,
): string | undefined {
  if (raw === undefined) return undefined;
  const range = toSemverRange(raw);
  if (range === null) {
    return r.fail(
      "package.astrid-version",
      `invalid astrid-version '${raw}': expected a semver requirement like '>=0.1' or '^0.1.0'`,
    );
  }
  if (!satisfiesRange(kernelVersion, range)) {
    return r.fail(
      "package.astrid-version",
      `the capsule requires Astrid '${raw}' but this kernel is ${kernelVersion}`,
    );
  }
  return raw;
}

/**
 * Reads `[package]`; returns `undefined` when name or version is unusable
 * (the issues say why).
 */
export function readPackage(
  r: Reader,
  root: Table,
  kernelVersion: string,
): PackageInfo | undefined {
  if (root["package"] === undefined) {
    return r.fail("package", "missing required table [package]");
  }
  const t = r.table(root["package"], "package");
  if (t === undefined) return undefined;
  r.known(t, "package", KEYS);
  const rawName = r.required(t, "package", "name");
  const name = rawName === undefined ? undefined : capsuleId(r, rawName);
  const version = r.required(t, "package", "version", {
    test: isExactVersion,
    what:
      "a full semver version MAJOR.MINOR.PATCH[-pre][+build] (invalid version)",
  });
  const keywords = r.strings(t, "package", "keywords");
  if (keywords.length > MAX_KEYWORDS) {
    r.fail(
      "package.keywords",
      `expected at most ${MAX_KEYWORDS} keywords, got ${keywords.length}`,
    );
  }
  const metadata = t["metadata"] === undefined
    ? {}
    : isTable(t["metadata"])
    ? structuredClone(t["metadata"])
    : (r.expected("package.metadata", "a table", t["metadata"]) ?? {});
  const optional = (
    field: string,
    check?: { test: (s: string) => boolean; what: string },
  ): string | undefined => r.string(t, "package", field, check);
  const pkg = {
    description: optional("description"),
    repository: optional("repository", URL_CHECK),
    homepage: optional("homepage", URL_CHECK),
    documentation: optional("documentation", URL_CHECK),
    license: optional("license"),
    license_file: optional("license-file", RELATIVE_PATH),
    readme: optional("readme", RELATIVE_PATH),
    astrid_version: astridVersion(r, optional("astrid-version"), kernelVersion),
  };
  const base = {
    authors: r.strings(t, "package", "authors"),
    keywords,
    categories: r.strings(t, "package", "categories"),
    publish: r.boolean(t, "package", "publish", true),
    include: r.strings(t, "package", "include"),
    exclude: r.strings(t, "package", "exclude"),
    metadata,
  };
  if (name === undefined || version === undefined) return undefined;
  return { name, version, ...dropUndefined(pkg), ...base };
}

/** Removes `undefined` members (for `exactOptionalPropertyTypes`). */
export function dropUndefined<T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
