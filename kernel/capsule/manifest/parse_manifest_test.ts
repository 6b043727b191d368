import assert from "node:assert/strict";
import { KernelError } from "../../core/errors.ts";
import {
  bad,
  FILE,
  issueAt,
  KERNEL,
  ok,
  PKG,
} from "./_manifest_fixture_test.ts";
import {
  manifestError,
  parseManifest,
  validateManifest,
} from "./parse_manifest.ts";

const FULL = [
  "[package]",
  'name = "full-demo"',
  'version = "1.2.3-beta.1+b7"',
  'description = "Every table once"',
  'authors = ["Ada <ada@example.com>"]',
  'repository = "https://example.com/repo"',
  'license = "MIT"',
  'license-file = "LICENSE"',
  'readme = "docs/README.md"',
  'keywords = ["a", "b"]',
  'astrid-version = ">=0.1"',
  "publish = false",
  "[package.metadata]",
  "anything = { nested = [1, 2] }",
  "",
  "[[component]]",
  'id = "main"',
  'file = "dist/main.js"',
  'type = "js"',
  "[component.capabilities]",
  'fs_read = ["cwd://src"]',
  "",
  "[imports.astrid]",
  'llm = "^1.0"',
  'session = { version = ">=1.1, <2", optional = true }',
  "[exports.astrid]",
  'notes = "1.0.0"',
  'memo = { version = "2.0.0" }',
  "",
  "[capabilities]",
  'fs_read = ["*", "home://notes"]',
  'fs_write = ["cwd://out"]',
  'net = ["api.example.com"]',
  'host_process = ["git status"]',
  'ipc_publish = ["notes.v1.*"]',
  'ipc_subscribe = ["astrid.v1.request.*"]',
  'identity = ["resolve"]',
  "allow_prompt_injection = true",
  "",
  "[env.API_KEY]",
  'type = "secret"',
  'request = "Your key"',
  "[env.MODEL]",
  'type = "string"',
  'default = "small"',
  'enum_values = ["small", "large"]',
  "",
  "[[context_file]]",
  'name = "rules"',
  'file = "ctx/rules.md"',
  "[[command]]",
  'name = "notes"',
  'description = "Show notes"',
  "[[skill]]",
  'name = "summarise"',
  'file = "skills/summarise.md"',
  "[[uplink]]",
  'name = "tg"',
  'platform = "telegram"',
  'profile = "chat"',
  "[[interceptor]]",
  'event = "llm.v1.request.*"',
  'action = "on_request"',
  "priority = 10",
  "[[topic]]",
  'name = "notes.v1.saved"',
  'direction = "publish"',
  'schema = "schemas/saved.json"',
];

Deno.test({
  name:
    "`parseManifest()` accepts a manifest using every table and fills defaults",
  permissions: "none",
  fn() {
    const m = ok(...FULL);
    assert.equal(m.file, FILE);
    assert.equal(m.package.name, "full-demo");
    assert.equal(m.package.version, "1.2.3-beta.1+b7");
    assert.equal(m.package.license_file, "LICENSE");
    assert.equal(m.package.astrid_version, ">=0.1");
    assert.equal(m.package.publish, false);
    assert.deepEqual(m.package.metadata, { anything: { nested: [1, 2] } });
    assert.equal(m.engine, "js");
    assert.deepEqual(m.component, {
      id: "main",
      file: "dist/main.js",
      type: "js",
      instances: 1,
    });
    assert.deepEqual(m.capabilities.fs_read, [
      "*",
      "home://notes",
      "cwd://src",
    ]);
    assert.deepEqual(
      m.imports.map((i) => [i.name, i.requirement, i.optional]),
      [
        ["llm", "^1.0", false],
        ["session", ">=1.1, <2", true],
      ],
    );
    assert.deepEqual(
      m.exports.map((e) => `${e.namespace}/${e.name}@${e.version}`),
      [
        "astrid/notes@1.0.0",
        "astrid/memo@2.0.0",
      ],
    );
    assert.deepEqual(m.env.map((e) => [e.key, e.type, e.request, e.default]), [
      ["API_KEY", "secret", "Your key", undefined],
      ["MODEL", "string", "Please enter value for MODEL", "small"],
    ]);
    assert.deepEqual(m.context_files, [{
      name: "rules",
      file: "ctx/rules.md",
    }]);
    assert.deepEqual(m.commands, [{
      name: "notes",
      description: "Show notes",
    }]);
    assert.deepEqual(m.skills, [{
      name: "summarise",
      file: "skills/summarise.md",
    }]);
    assert.deepEqual(m.uplinks, [{
      name: "tg",
      platform: "telegram",
      profile: "chat",
    }]);
    assert.deepEqual(m.interceptors, [
      { event: "llm.v1.request.*", action: "on_request", priority: 10 },
    ]);
    assert.deepEqual(m.topics, [
      {
        name: "notes.v1.saved",
        direction: "publish",
        schema: "schemas/saved.json",
      },
    ]);
    assert.equal(m.capabilities.uplink, false);
    assert.deepEqual(m.capabilities.kv, []);
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses an unknown top-level key and suggests the right one",
  permissions: "none",
  fn() {
    const issues = bad(...PKG, "[capabilites]", 'net = ["x.com"]');
    const issue = issueAt(issues, "capabilites");
    assert.match(issue.message, /unknown key 'capabilites'/);
    assert.match(issue.message, /did you mean 'capabilities'/);
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses unknown keys nested in tables and array tables",
  permissions: "none",
  fn() {
    const issues = bad(
      ...PKG,
      'edition = "2024"',
      "[[component]]",
      'file = "a.wasm"',
      'memory = "64MiB"',
      "[capabilities]",
      "fs_reed = []",
      "[[command]]",
      'name = "x"',
      'alias = "y"',
    );
    assert.match(
      issueAt(issues, "package.edition").message,
      /unknown key 'edition'/,
    );
    assert.match(issueAt(issues, "component[0].memory").message, /unknown key/);
    assert.match(
      issueAt(issues, "capabilities.fs_reed").message,
      /did you mean 'fs_read'/,
    );
    assert.match(
      issueAt(issues, "command[0].alias").message,
      /unknown key 'alias'/,
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` reports several problems at once, each with file and key",
  permissions: "none",
  fn() {
    const issues = bad(
      "[package]",
      'name = "Bad_Name"',
      'version = "1.0"',
      "[[component]]",
      'file = "../escape.wasm"',
      "[capabilities]",
      "net = 5",
      "[imports.astrid]",
      'llm = "not a range"',
    );
    assert.deepEqual(issues.map((i) => i.key).sort(), [
      "capabilities.net",
      "component[0].file",
      "imports.astrid.llm",
      "package.name",
      "package.version",
    ]);
    assert.ok(issues.every((i) => i.file === FILE));
    assert.match(
      issueAt(issues, "capabilities.net").message,
      /expected an array of strings, got an integer \(5\)/,
    );
    const err = manifestError(issues);
    assert.ok(KernelError.is(err, "MANIFEST_INVALID"));
    assert.match(err.message, /5 problems/);
    assert.match(err.message, /component\[0\]\.file/);
    assert.equal((err.data?.["issues"] as unknown[]).length, 5);
    assert.equal(err.data?.["file"], FILE);
  },
});

Deno.test({
  name: "`parseManifest()` reports TOML syntax errors with line and column",
  permissions: "none",
  fn() {
    const issues = bad(...PKG, "net = [");
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.key, "");
    assert.match(
      issues[0]?.message ?? "",
      /invalid TOML at line 4, column \d+/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` requires [package] and a table-shaped document",
  permissions: "none",
  fn() {
    assert.match(
      issueAt(bad("[capabilities]", "net = []"), "package").message,
      /missing required table \[package\]/,
    );
    assert.match(
      issueAt(bad('package = "x"'), "package").message,
      /expected a table, got a string/,
    );
    const notTable = validateManifest([1], {
      file: FILE,
      kernelVersion: KERNEL,
    });
    assert.ok(!notTable.ok && notTable.issues[0]?.key === "");
  },
});

Deno.test({
  name:
    "`parseManifest()` picks the engine: component type, else mcp_server, else static",
  permissions: "none",
  fn() {
    assert.equal(ok(...PKG, "[[component]]", 'file = "p.wasm"').engine, "wasm");
    assert.equal(
      ok(...PKG, "[[component]]", 'entrypoint = "p.mjs"').engine,
      "js",
    );
    assert.equal(
      ok(...PKG, "[[component]]", 'file = "p.wasm"', 'type = "wasm"').engine,
      "wasm",
    );
    assert.equal(
      ok(
        ...PKG,
        "[capabilities]",
        'host_process = ["deno run"]',
        "[[mcp_server]]",
        'id = "mem"',
        'command = "deno"',
        'args = ["run", "server.ts"]',
      ).engine,
      "mcp",
    );
    assert.equal(
      ok(...PKG, "[[skill]]", 'name = "s"', 'file = "s.md"').engine,
      "static",
    );
    assert.equal(ok(...PKG).component, null);
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses a component whose type and file disagree or cannot be inferred",
  permissions: "none",
  fn() {
    assert.match(
      issueAt(
        bad(...PKG, "[[component]]", 'file = "p.wasm"', 'type = "js"'),
        "component[0].file",
      ).message,
      /expected a \.js or \.mjs file for type 'js'/,
    );
    assert.match(
      issueAt(
        bad(...PKG, "[[component]]", 'file = "p.bin"'),
        "component[0].type",
      ).message,
      /cannot infer the engine/,
    );
    assert.match(
      issueAt(
        bad(...PKG, "[[component]]", 'file = "p.wasm"', 'type = "executable"'),
        "component[0].type",
      ).message,
      /'js' or 'wasm'/,
    );
    assert.match(
      issueAt(
        bad(...PKG, "[[component]]", 'file = "a.js"', 'entrypoint = "b.js"'),
        "component[0].entrypoint",
      ).message,
      /alias/,
    );
    assert.match(
      issueAt(bad(...PKG, "[[component]]", 'id = "x"'), "component[0].file")
        .message,
      /missing required key 'file'/,
    );
  },
});

Deno.test({
  name: "`parseManifest()` refuses component files outside the capsule",
  permissions: "none",
  fn() {
    for (
      const file of [
        "../x.wasm",
        "a/../../x.wasm",
        "/abs/x.wasm",
        "./x.wasm",
        "a//x.wasm",
        "C:/x.wasm",
        "a\\\\x.wasm",
      ]
    ) {
      const issues = bad(
        ...PKG,
        "[[component]]",
        `file = "${file}"`,
        'type = "wasm"',
      );
      assert.match(
        issueAt(issues, "component[0].file").message,
        /relative path inside the capsule/,
        file,
      );
    }
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses two components, component+mcp_server, and unused 0.5 keys",
  permissions: "none",
  fn() {
    const two = bad(
      ...PKG,
      "[[component]]",
      'file = "a.wasm"',
      "[[component]]",
      'file = "b.wasm"',
    );
    assert.match(
      issueAt(two, "component").message,
      /at most one \[\[component\]\]/,
    );
    const both = bad(
      ...PKG,
      "[[component]]",
      'file = "a.wasm"',
      "[capabilities]",
      'host_process = ["node"]',
      "[[mcp_server]]",
      'id = "m"',
      'command = "node"',
    );
    assert.match(issueAt(both, "mcp_server").message, /one engine/);
    const legacy = bad(
      ...PKG,
      "[[component]]",
      'file = "a.wasm"',
      'hash = "abc"',
      'link = ["b"]',
    );
    assert.match(issueAt(legacy, "component[0].hash").message, /meta\.json/);
    assert.match(
      issueAt(legacy, "component[0].link").message,
      /single component/,
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` reads a js component's `instances` (default 1, up to 16)",
  permissions: "none",
  fn() {
    const js = (...extra: string[]) =>
      ok(...PKG, "[[component]]", 'file = "p.js"', ...extra).component;
    assert.equal(js()?.instances, 1);
    assert.equal(js("instances = 1")?.instances, 1);
    assert.equal(js("instances = 3")?.instances, 3);
    assert.equal(js("instances = 16")?.instances, 16);
    const wasm = ok(
      ...PKG,
      "[[component]]",
      'file = "p.wasm"',
      "instances = 1",
    );
    assert.equal(wasm.component?.instances, 1);
  },
});

Deno.test({
  name:
    "`parseManifest()` refuses `instances` outside 1..16, not an integer, or above 1 on a wasm component",
  permissions: "none",
  fn() {
    for (const value of ["0", "17", "-1", "2.5", '"3"', "true"]) {
      const issues = bad(
        ...PKG,
        "[[component]]",
        'file = "p.js"',
        `instances = ${value}`,
      );
      assert.match(
        issueAt(issues, "component[0].instances").message,
        /expected an integer from 1 to 16/,
        value,
      );
      const err = manifestError(issues);
      assert.ok(KernelError.is(err, "MANIFEST_INVALID"));
      assert.match(err.message, /component\[0\]\.instances/);
    }
    assert.match(
      issueAt(
        bad(...PKG, "[[component]]", 'file = "p.wasm"', "instances = 2"),
        "component[0].instances",
      ).message,
      /a 'wasm' component runs one instance/,
    );
  },
});

Deno.test({
  name:
    "`parseManifest()` names the given file in every issue and in the thrown error",
  permissions: "none",
  fn() {
    const file = "/home/u/.astrid/capsules/x/Capsule.toml";
    const result = parseManifest(
      '[package]\nname = "x"\nversion = "1"\nfoo = 1\n',
      {
        file,
        kernelVersion: KERNEL,
      },
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((i) => [i.file, i.key]), [
      [file, "package.foo"],
      [file, "package.version"],
    ]);
    assert.match(
      manifestError(result.issues).message,
      /^Cannot load capsule manifest \/home\/u\/\.astrid\/capsules\/x\/Capsule\.toml: 2 problems/,
    );
    assert.throws(() => manifestError([]), RangeError);
  },
});
