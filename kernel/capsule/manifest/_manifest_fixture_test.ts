/**
 * Helpers for manifest tests: parse TOML lines with a fixed file name and
 * kernel version, and pull out issues by key.
 */
import assert from "node:assert/strict";
import type { CapsuleManifest, ManifestIssue } from "./manifest_types.ts";
import { parseManifest } from "./parse_manifest.ts";

/** The file name every fixture manifest reports. */
export const FILE = "/caps/demo/Capsule.toml";
/** The kernel version fixtures run against. */
export const KERNEL = "0.1.0";

/** A valid `[package]` header. */
export const PKG = ["[package]", 'name = "demo"', 'version = "1.0.0"'];

/** Parses `lines` (joined by newlines) and asserts success. */
export function ok(...lines: string[]): CapsuleManifest {
  const result = parseManifest(lines.join("\n"), {
    file: FILE,
    kernelVersion: KERNEL,
  });
  if (!result.ok) {
    assert.fail(
      `expected a valid manifest, got:\n${
        result.issues.map((i) => `${i.key}: ${i.message}`).join("\n")
      }`,
    );
  }
  return result.value;
}

/** Parses `lines` and asserts failure, returning the issues. */
export function bad(...lines: string[]): readonly ManifestIssue[] {
  const result = parseManifest(lines.join("\n"), {
    file: FILE,
    kernelVersion: KERNEL,
  });
  assert.ok(!result.ok, "expected the manifest to be refused");
  for (const issue of result.issues) assert.equal(issue.file, FILE);
  return result.issues;
}

/** Returns the single issue at `key`, asserting there is exactly one. */
export function issueAt(
  issues: readonly ManifestIssue[],
  key: string,
): ManifestIssue {
  const found = issues.filter((i) => i.key === key);
  assert.equal(
    found.length,
    1,
    `expected one issue at '${key}', got: ${JSON.stringify(issues)}`,
  );
  return found[0]!;
}
