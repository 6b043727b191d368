/**
 * `[imports.<namespace>]` and `[exports.<namespace>]` (reference §2.3).
 *
 * @module
 */
import type { ExportDef, ImportDef } from "./manifest_types.ts";
import {
  IDENTIFIER,
  isTable,
  join,
  type Reader,
  type Table,
} from "./_reader.ts";
import { isExactVersion, toSemverRange } from "./semver_rules.ts";

type Entry = { namespace: string; name: string; key: string; value: unknown };

function entries(r: Reader, root: Table, section: string): Entry[] {
  const v = root[section];
  if (v === undefined) return [];
  const outer = r.table(v, section);
  if (outer === undefined) return [];
  const out: Entry[] = [];
  for (const [ns, inner] of Object.entries(outer)) {
    const nsKey = join(section, ns);
    if (!IDENTIFIER.test(ns)) {
      r.fail(nsKey, `invalid namespace '${ns}': expected ${IDENTIFIER.what}`);
      continue;
    }
    const t = r.table(inner, nsKey);
    if (t === undefined) continue;
    for (const [name, value] of Object.entries(t)) {
      const key = join(nsKey, name);
      if (!IDENTIFIER.test(name)) {
        r.fail(
          key,
          `invalid interface name '${name}': expected ${IDENTIFIER.what}`,
        );
        continue;
      }
      out.push({ namespace: ns, name, key, value });
    }
  }
  return out;
}

/** Reads `[imports]`: `name = "<req>"` or `name = { version = "<req>", optional = bool }`. */
export function readImports(r: Reader, root: Table): ImportDef[] {
  const out: ImportDef[] = [];
  for (const { namespace, name, key, value } of entries(r, root, "imports")) {
    let requirement: unknown = value;
    let optional = false;
    let at = key;
    if (isTable(value)) {
      r.known(value, key, ["version", "optional"]);
      if (value["version"] === undefined) {
        r.fail(join(key, "version"), "missing required key 'version'");
        continue;
      }
      requirement = value["version"];
      at = join(key, "version");
      optional = r.boolean(value, key, "optional", false);
    }
    if (typeof requirement !== "string") {
      r.expected(
        at,
        "a semver requirement string or { version, optional }",
        requirement,
      );
      continue;
    }
    const range = toSemverRange(requirement);
    if (range === null) {
      r.fail(
        at,
        `invalid semver requirement '${requirement}': expected e.g. '^1.0', '>=1.2, <2' or '*'`,
      );
      continue;
    }
    out.push({ namespace, name, requirement, range, optional });
  }
  return out;
}

/** Reads `[exports]`: `name = "<version>"` or `name = { version = "<version>" }`. */
export function readExports(r: Reader, root: Table): ExportDef[] {
  const out: ExportDef[] = [];
  for (const { namespace, name, key, value } of entries(r, root, "exports")) {
    let version: unknown = value;
    let at = key;
    if (isTable(value)) {
      r.known(value, key, ["version"]);
      if (value["version"] === undefined) {
        r.fail(join(key, "version"), "missing required key 'version'");
        continue;
      }
      version = value["version"];
      at = join(key, "version");
    }
    if (typeof version !== "string") {
      r.expected(at, "an exact semver version string or { version }", version);
      continue;
    }
    if (!isExactVersion(version)) {
      r.fail(
        at,
        `invalid semver version '${version}': expected an exact version like '1.0.0'`,
      );
      continue;
    }
    out.push({ namespace, name, version });
  }
  return out;
}
