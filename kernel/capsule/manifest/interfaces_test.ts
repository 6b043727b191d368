import assert from "node:assert/strict";
import { bad, issueAt, ok, PKG } from "./_manifest_fixture_test.ts";
import {
  isExactVersion,
  satisfiesRange,
  toSemverRange,
} from "./semver_rules.ts";

Deno.test({
  name:
    "`parseManifest()` reads imports as strings or {version, optional} tables",
  permissions: "none",
  fn() {
    const m = ok(
      ...PKG,
      "[imports.astrid]",
      'llm = "^1.0"',
      'tool = { version = "*" }',
      'session = { version = "1.2", optional = true }',
      "[imports.acme-corp]",
      'search-index = ">=2.1, <3"',
    );
    assert.deepEqual(
      m.imports.map((
        i,
      ) => [i.namespace, i.name, i.requirement, i.range, i.optional]),
      [
        ["astrid", "llm", "^1.0", ">=1.0.0 <2.0.0-0", false],
        ["astrid", "tool", "*", "*", false],
        ["astrid", "session", "1.2", ">=1.2.0 <2.0.0-0", true],
        ["acme-corp", "search-index", ">=2.1, <3", ">=2.1.0 <3.0.0-0", false],
      ],
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses invalid requirements, shapes and keys in imports",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[imports.astrid]",
      'llm = "latest"',
      'tool = "^1.0 || ^2.0"',
      "session = 1",
      "spark = { optional = true }",
      'hook = { version = "^1", required = true }',
    );
    assert.match(
      issueAt(issues, "imports.astrid.llm").message,
      /invalid semver requirement 'latest'/,
    );
    assert.match(
      issueAt(issues, "imports.astrid.tool").message,
      /invalid semver requirement/,
    );
    assert.match(
      issueAt(issues, "imports.astrid.session").message,
      /expected a semver requirement string/,
    );
    assert.match(
      issueAt(issues, "imports.astrid.spark.version").message,
      /missing required key 'version'/,
    );
    assert.match(
      issueAt(issues, "imports.astrid.hook.required").message,
      /unknown key 'required'/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` refuses bad namespaces and interface names",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[imports.Astrid]",
      'llm = "^1"',
      "[exports.astrid]",
      'Tool_X = "1.0.0"',
      '"9lives" = "1.0.0"',
    );
    assert.match(
      issueAt(issues, "imports.Astrid").message,
      /invalid namespace 'Astrid'/,
    );
    assert.match(
      issueAt(issues, "exports.astrid.Tool_X").message,
      /invalid interface name 'Tool_X'/,
    );
    assert.match(
      issueAt(issues, "exports.astrid.9lives").message,
      /invalid interface name/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` requires exact versions in exports",
  permissions: "none",
  fn() {
    const m = ok(
      ...PKG,
      "[exports.astrid]",
      'llm = "1.0.0"',
      'tool = { version = "2.1.0-rc.1" }',
    );
    assert.deepEqual(m.exports.map((e) => e.version), ["1.0.0", "2.1.0-rc.1"]);
    const issues = bad(
      ...PKG,
      "[exports.astrid]",
      'llm = "^1.0"',
      'tool = "1.0"',
      'spark = { version = "1.0.0", optional = true }',
    );
    assert.match(
      issueAt(issues, "exports.astrid.llm").message,
      /invalid semver version '\^1\.0'/,
    );
    assert.match(
      issueAt(issues, "exports.astrid.tool").message,
      /invalid semver version '1\.0'/,
    );
    assert.match(
      issueAt(issues, "exports.astrid.spark.optional").message,
      /unknown key 'optional'/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` refuses imports on uplink capsules",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      "[capabilities]",
      "uplink = true",
      "[imports.astrid]",
      'llm = "^1"',
    );
    assert.match(
      issueAt(issues, "imports").message,
      /not allowed on uplink capsules/,
    );
    assert.equal(
      ok(
        ...PKG,
        "[capabilities]",
        "uplink = true",
        "[exports.astrid]",
        'cli = "1.0.0"',
      ).capabilities.uplink,
      true,
    );
  },
});

Deno.test({
  name: "`toSemverRange()` follows Cargo syntax and refuses npm-only forms",
  permissions: "none",
  fn() {
    assert.equal(toSemverRange("1"), ">=1.0.0 <2.0.0-0");
    assert.equal(toSemverRange("0.3"), ">=0.3.0 <0.4.0-0");
    assert.equal(toSemverRange("~1.2"), ">=1.2.0 <1.3.0-0");
    assert.equal(toSemverRange("=1.2.3"), "1.2.3");
    assert.equal(toSemverRange("1.*"), ">=1.0.0 <2.0.0-0");
    assert.equal(toSemverRange(">= 1.2.0 , < 2"), ">=1.2.0 <2.0.0-0");
    for (
      const bad of [
        "",
        "latest",
        "1.0 - 2.0",
        "^1 || ^2",
        ">=1 <2",
        "1.x",
        ">1.*",
        "v1",
        ",",
        "^1,",
      ]
    ) {
      assert.equal(toSemverRange(bad), null, bad);
    }
  },
});

Deno.test({
  name:
    "`satisfiesRange()` matches exact versions and keeps pre-releases out of plain ranges",
  permissions: "none",
  fn() {
    const caret = toSemverRange("^1.0")!;
    assert.ok(satisfiesRange("1.0.0", caret));
    assert.ok(satisfiesRange("1.9.9", caret));
    assert.ok(!satisfiesRange("2.0.0", caret));
    assert.ok(!satisfiesRange("1.1.0-beta", caret));
    assert.ok(
      satisfiesRange("1.1.0-beta", toSemverRange(">=1.1.0-alpha, <2")!),
    );
    assert.ok(!satisfiesRange("1.0", caret));
    assert.ok(isExactVersion("0.0.0"));
    assert.ok(!isExactVersion(" 1.0.0"));
  },
});
