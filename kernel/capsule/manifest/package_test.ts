import assert from "node:assert/strict";
import { bad, FILE, issueAt, ok } from "./_manifest_fixture_test.ts";
import { parseManifest } from "./parse_manifest.ts";

function pkg(...lines: string[]): string[] {
  return ["[package]", ...lines];
}

Deno.test({
  name:
    "`parseManifest()` refuses package names that break the capsule-id rule",
  permissions: "none",
  fn() {
    for (
      const name of [
        "Demo",
        "my_capsule",
        "-lead",
        "trail-",
        "",
        "a".repeat(65),
        "ünï",
      ]
    ) {
      const issues = bad(
        ...pkg(`name = ${JSON.stringify(name)}`, 'version = "1.0.0"'),
      );
      assert.match(issueAt(issues, "package.name").message, /capsule id/, name);
    }
    assert.equal(
      ok(...pkg('name = "a-1"', 'version = "1.0.0"')).package.name,
      "a-1",
    );
  },
});

Deno.test({
  name: "`parseManifest()` requires a full semver package version",
  permissions: "none",
  fn() {
    for (
      const v of ["1.0", "latest", "v1.0.0", "01.0.0", "1.0.0-01", "1.0.0.0"]
    ) {
      const issues = bad(...pkg('name = "a"', `version = "${v}"`));
      assert.match(
        issueAt(issues, "package.version").message,
        /invalid version/,
        v,
      );
    }
    assert.match(
      issueAt(bad(...pkg('name = "a"', "version = 1")), "package.version")
        .message,
      /expected a string, got an integer/,
    );
    assert.match(
      issueAt(bad(...pkg('name = "a"')), "package.version").message,
      /missing required key 'version'/,
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` checks astrid-version parses and matches the running kernel",
  permissions: "none",
  fn() {
    const invalid = bad(
      ...pkg('name = "a"', 'version = "1.0.0"', 'astrid-version = "newest"'),
    );
    assert.match(
      issueAt(invalid, "package.astrid-version").message,
      /invalid astrid-version 'newest'/,
    );
    const tooNew = bad(
      ...pkg('name = "a"', 'version = "1.0.0"', 'astrid-version = ">=0.5.0"'),
    );
    assert.match(
      issueAt(tooNew, "package.astrid-version").message,
      /requires Astrid '>=0\.5\.0' but this kernel is 0\.1\.0/,
    );
    const newer = parseManifest(
      '[package]\nname = "a"\nversion = "1.0.0"\nastrid-version = ">=0.5.0"\n',
      { file: FILE, kernelVersion: "0.5.1" },
    );
    assert.ok(newer.ok);
  },
});

Deno.test({
  name:
    "`parseManifest()` checks package URLs, paths, keyword count and list types",
  permissions: "none",
  fn() {
    const issues = bad(...pkg(
      'name = "a"',
      'version = "1.0.0"',
      'homepage = "ftp://x"',
      'readme = "../README.md"',
      'keywords = ["a", "b", "c", "d", "e", "f"]',
      'authors = "me"',
      'categories = ["x", 3]',
      'publish = "yes"',
      'metadata = "free"',
    ));
    assert.match(issueAt(issues, "package.homepage").message, /http\(s\) URL/);
    assert.match(issueAt(issues, "package.readme").message, /relative path/);
    assert.match(
      issueAt(issues, "package.keywords").message,
      /at most 5 keywords, got 6/,
    );
    assert.match(
      issueAt(issues, "package.authors").message,
      /array of strings/,
    );
    assert.match(
      issueAt(issues, "package.categories[1]").message,
      /expected a string, got an integer/,
    );
    assert.match(
      issueAt(issues, "package.publish").message,
      /expected a boolean/,
    );
    assert.match(
      issueAt(issues, "package.metadata").message,
      /expected a table/,
    );
  },
});
