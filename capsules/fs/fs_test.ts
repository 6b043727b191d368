/**
 * The `fs` tool capsule through the real kernel: bundled, installed, booted,
 * called over the bus exactly as the router calls a tool.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { ToolDescribeResult, ToolExecuteResult } from "@astrid/sdk";
import {
  type AgentFixture,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
};

let calls = 0;

async function call(
  fx: AgentFixture,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolExecuteResult> {
  const call_id = `call-${++calls}`;
  const result = await fx.request<ToolExecuteResult>(
    `tool.v1.execute.${name}`,
    { call_id, name, arguments: args, session_id: "s1" },
  );
  assert.equal(result.call_id, call_id);
  return result;
}

async function ok(
  fx: AgentFixture,
  name: string,
  args: Record<string, unknown>,
): Promise<string> {
  const r = await call(fx, name, args);
  assert.equal(r.is_error, false, r.content);
  return r.content;
}

async function refused(
  fx: AgentFixture,
  name: string,
  args: Record<string, unknown>,
): Promise<string> {
  const r = await call(fx, name, args);
  assert.equal(r.is_error, true, r.content);
  return r.content;
}

function withFs(
  files: Record<string, string>,
  fn: (fx: AgentFixture) => Promise<void>,
): () => Promise<void> {
  return async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-fs-",
      capsules: ["fs"],
      files,
    });
    await fn(fx);
  };
}

/** Answers `tool.v1.request.describe` with what the tool capsules appended (the router's part). */
function answerDescribe(fx: AgentFixture): () => void {
  return fx.runtime.bus.subscribe("kernel", {
    pattern: "tool.v1.request.describe",
    handler: (env) => env.payload,
  });
}

/** The audit entries of the fs capsule in this session. */
async function audited(fx: AgentFixture, decision: "allowed" | "denied") {
  await fx.tk.kernel.security.gate.flush();
  return (await fx.tk.kernel.security.audit.query({
    principal: fx.tk.kernel.principal,
    capsule: "fs" as never,
    decision,
  })).filter((e) => e.session !== null).map((e) =>
    e.action as { type: string; path?: string; mode?: string }
  );
}

Deno.test({
  name: "fs: tool.v1.request.describe offers the six tools with their schemas",
  permissions: PERMS,
  fn: withFs({}, async (fx) => {
    const stop = answerDescribe(fx);
    try {
      const { tools } = await fx.request<ToolDescribeResult>(
        "tool.v1.request.describe",
        { tools: [] },
      );
      assert.deepEqual(
        tools.map((t) => [t.name, t.input_schema.required]),
        [
          ["read_file", ["path"]],
          ["write_file", ["path", "content"]],
          ["edit_file", ["path", "old_string", "new_string"]],
          ["list_directory", undefined],
          ["glob", ["pattern"]],
          ["grep", ["pattern"]],
        ],
      );
      for (const t of tools) {
        assert.equal(t.input_schema.type, "object", t.name);
        assert.ok(t.description.length > 40, t.name);
      }
    } finally {
      stop();
    }
  }),
});

Deno.test({
  name:
    "fs: read_file numbers the lines like cat -n, pages with offset/limit and says how to read on",
  permissions: PERMS,
  fn: withFs({
    "a.txt": "one\ntwo\nthree\n",
    "big.txt": Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n"),
    "empty.txt": "",
    "d/x.txt": "x",
  }, async (fx) => {
    assert.equal(
      await ok(fx, "read_file", { path: "a.txt" }),
      "     1\tone\n     2\ttwo\n     3\tthree",
    );
    assert.equal(
      await ok(fx, "read_file", { path: "big.txt", offset: 10, limit: 2 }),
      "    10\tline 10\n    11\tline 11\n" +
        "[showing lines 10-11 of 30; call read_file with offset=12 to read on]",
    );
    assert.equal(
      await ok(fx, "read_file", { path: "big.txt", offset: 29 }),
      "    29\tline 29\n    30\tline 30\n[showing lines 29-30 of 30]",
    );
    assert.match(
      await ok(fx, "read_file", { path: "empty.txt" }),
      /empty/,
    );
    assert.match(
      await refused(fx, "read_file", { path: "big.txt", offset: 31 }),
      /offset 31 is past the end of 'big.txt', which has 30 lines/,
    );
    assert.match(
      await refused(fx, "read_file", { path: "nope.txt" }),
      /read_file: cannot read 'nope.txt'.*list_directory or glob/,
    );
    assert.match(
      await refused(fx, "read_file", { path: "d" }),
      /'d': it is a directory; use list_directory/,
    );
    await Deno.writeFile(
      path.join(fx.tk.workspace, "bad.bin"),
      new Uint8Array([0xff, 0xfe, 0x00]),
    );
    assert.match(
      await refused(fx, "read_file", { path: "bad.bin" }),
      /cannot read 'bad.bin': it is not UTF-8 text/,
    );
    assert.match(
      await refused(fx, "read_file", { path: "a.txt", limit: 0 }),
      /argument 'limit' must be an integer from 1/,
    );
    assert.match(
      await refused(fx, "read_file", {}),
      /argument 'path' is required/,
    );
  }),
});

Deno.test({
  name: "fs: read_file cuts huge output with a note on how to read on",
  permissions: PERMS,
  fn: withFs({
    "wide.txt": Array.from({ length: 200 }, () => "x".repeat(1500)).join("\n"),
    "long-line.txt": "y".repeat(5000),
  }, async (fx) => {
    const wide = await ok(fx, "read_file", { path: "wide.txt" });
    assert.ok(wide.length <= 101_000, `${wide.length}`);
    assert.match(
      wide,
      /\[showing lines 1-\d+ of 200 \(output cut at 100000 characters\); call read_file with offset=\d+ to read on\]$/,
    );
    assert.match(
      await ok(fx, "read_file", { path: "long-line.txt" }),
      /^ {5}1\ty{2000}… \[line cut at 2000 of 5000 characters\]$/,
    );
  }),
});

Deno.test({
  name:
    "fs: write_file lands in the session overlay; the workspace file on disk is unchanged",
  permissions: PERMS,
  fn: withFs({ "a.txt": "old\n" }, async (fx) => {
    assert.equal(
      await ok(fx, "write_file", { path: "a.txt", content: "new\n" }),
      "Overwrote 'a.txt': 1 line, 4 bytes.",
    );
    assert.equal(
      await ok(fx, "write_file", {
        path: "src/deep/b.ts",
        content: "é\nx\n",
      }),
      "Created 'src/deep/b.ts': 2 lines, 5 bytes.",
    );
    assert.equal(await fx.readSession("a.txt"), "new\n");
    assert.equal(await fx.readSession("src/deep/b.ts"), "é\nx\n");
    assert.equal(
      await Deno.readTextFile(path.join(fx.tk.workspace, "a.txt")),
      "old\n",
    );
    await assert.rejects(
      Deno.stat(path.join(fx.tk.workspace, "src")),
      Deno.errors.NotFound,
    );
    // The tools see the session's view.
    assert.equal(
      await ok(fx, "read_file", { path: "a.txt" }),
      "     1\tnew",
    );
    const writes = (await audited(fx, "allowed")).filter((a) =>
      a.type === "capsule_file_access" && a.mode === "write"
    ).map((a) => path.relative(fx.tk.workspace, a.path ?? ""));
    assert.ok(writes.includes("a.txt"), writes.join());
    assert.ok(writes.includes("src/deep/b.ts"), writes.join());
  }),
});

Deno.test({
  name:
    "fs: edit_file replaces exactly one occurrence, or all with replace_all, in the overlay",
  permissions: PERMS,
  fn: withFs({
    "m.ts": "const a = 1;\nconst b = 2;\nconst c = a + b;\n",
    "r.txt": "foo bar foo baz foo\n",
  }, async (fx) => {
    assert.equal(
      await ok(fx, "edit_file", {
        path: "m.ts",
        old_string: "const b = 2;",
        new_string: "const b = 20;\nconst d = $&;",
      }),
      "Edited 'm.ts': replaced 1 occurrence at line 2.\n" +
        "     1\tconst a = 1;\n     2\tconst b = 20;\n     3\tconst d = $&;\n" +
        "     4\tconst c = a + b;",
    );
    assert.equal(
      await fx.readSession("m.ts"),
      "const a = 1;\nconst b = 20;\nconst d = $&;\nconst c = a + b;\n",
    );
    assert.equal(
      await ok(fx, "edit_file", {
        path: "r.txt",
        old_string: "foo",
        new_string: "qux",
        replace_all: true,
      }),
      "Edited 'r.txt': replaced 3 occurrences.",
    );
    assert.equal(await fx.readSession("r.txt"), "qux bar qux baz qux\n");
    assert.equal(
      await Deno.readTextFile(path.join(fx.tk.workspace, "r.txt")),
      "foo bar foo baz foo\n",
    );
  }),
});

Deno.test({
  name:
    "fs: edit_file refuses old_string not found, found several times without replace_all, and equal to new_string",
  permissions: PERMS,
  fn: withFs({
    "r.txt": "foo bar foo baz foo\n",
    "m.ts": "function f(x) {\n    if (x) {\n        return 1;\n    }\n}\n",
    "crlf.txt": "a\r\nb\r\n",
  }, async (fx) => {
    assert.match(
      await refused(fx, "edit_file", {
        path: "r.txt",
        old_string: "food",
        new_string: "x",
      }),
      /^edit_file: old_string was not found in 'r.txt'\. It must match the file exactly, including whitespace/,
    );
    assert.match(
      await refused(fx, "edit_file", {
        path: "m.ts",
        old_string: "if (x) {\n  return 1;\n}",
        new_string: "if (x) {\n  return 2;\n}",
      }),
      /not found in 'm.ts'.*Lines 2-4 hold the same text with different indentation or spacing: copy them exactly$/s,
    );
    assert.match(
      await refused(fx, "edit_file", {
        path: "crlf.txt",
        old_string: "a\nb",
        new_string: "c",
      }),
      /not found in 'crlf.txt'.*The file has CRLF line endings: write each line break in old_string as \\r\\n$/s,
    );
    assert.equal(
      await refused(fx, "edit_file", {
        path: "r.txt",
        old_string: "foo",
        new_string: "x",
      }),
      "edit_file: old_string occurs 3 times in 'r.txt'; add surrounding lines to old_string so it matches exactly once, " +
        "or set replace_all to true to replace every occurrence",
    );
    assert.match(
      await refused(fx, "edit_file", {
        path: "r.txt",
        old_string: "bar",
        new_string: "bar",
      }),
      /old_string and new_string are identical/,
    );
    assert.match(
      await refused(fx, "edit_file", {
        path: "r.txt",
        old_string: "",
        new_string: "x",
      }),
      /old_string is empty/,
    );
    assert.match(
      await refused(fx, "edit_file", {
        path: "missing.txt",
        old_string: "a",
        new_string: "b",
      }),
      /edit_file: cannot read 'missing.txt'/,
    );
    // Nothing was written.
    assert.equal(await fx.readSession("r.txt"), "foo bar foo baz foo\n");
    const writes = (await audited(fx, "allowed")).filter((a) =>
      a.mode === "write"
    );
    assert.deepEqual(writes, []);
  }),
});

Deno.test({
  name:
    "fs: list_directory lists the session view (overlay over workspace), directories with '/'",
  permissions: PERMS,
  fn: withFs({ "a.txt": "a", "src/m.ts": "m", "src/n.ts": "n" }, async (fx) => {
    await ok(fx, "write_file", { path: "new.md", content: "x" });
    assert.equal(
      await ok(fx, "list_directory", {}),
      "a.txt\nnew.md\nsrc/",
    );
    assert.equal(
      await ok(fx, "list_directory", { path: "src" }),
      "m.ts\nn.ts",
    );
    assert.match(
      await refused(fx, "list_directory", { path: "nope" }),
      /list_directory: cannot list 'nope'/,
    );
  }),
});

Deno.test({
  name:
    "fs: glob matches '**', '*', '?', classes and braces, skips .git and node_modules, sorted",
  permissions: PERMS,
  fn: withFs({
    "a.ts": "",
    "b.js": "",
    "src/m.ts": "",
    "src/deep/n.ts": "",
    "src/deep/n.json": "",
    "test/t1.ts": "",
    ".git/config.ts": "",
    "node_modules/p/i.ts": "",
  }, async (fx) => {
    assert.equal(
      await ok(fx, "glob", { pattern: "**/*.ts" }),
      "a.ts\nsrc/deep/n.ts\nsrc/m.ts\ntest/t1.ts",
    );
    assert.equal(await ok(fx, "glob", { pattern: "*.ts" }), "a.ts");
    assert.equal(
      await ok(fx, "glob", { pattern: "src/**/*.{ts,json}" }),
      "src/deep/n.json\nsrc/deep/n.ts\nsrc/m.ts",
    );
    assert.equal(
      await ok(fx, "glob", { pattern: "test/t?.[a-z]s" }),
      "test/t1.ts",
    );
    assert.equal(
      await ok(fx, "glob", { pattern: "*.ts", path: "src/deep" }),
      "src/deep/n.ts",
    );
    assert.equal(
      await ok(fx, "glob", { pattern: "node_modules/**/*.ts" }),
      "node_modules/p/i.ts",
    );
    assert.match(
      await ok(fx, "glob", { pattern: "**/*.py" }),
      /^No files match '\*\*\/\*\.py' under '\.'/,
    );
    assert.match(
      await refused(fx, "glob", { pattern: "../**" }),
      /glob: invalid glob '\.\.\/\*\*': the pattern must not contain '\.\.'/,
    );
    assert.match(
      await refused(fx, "glob", { pattern: "*", path: "nope" }),
      /glob: cannot search 'nope'/,
    );
  }),
});

Deno.test({
  name:
    "fs: grep returns 'file:line: text', honours glob, case_insensitive and a file path, and caps results",
  permissions: PERMS,
  fn: withFs({
    "a.ts": "function main() {}\nconst x = 1;\n",
    "src/b.ts": "// Main entry\nfunction helper() {}\n",
    "src/c.md": "function in docs\n",
    "many.txt": Array.from({ length: 250 }, (_, i) => `hit ${i}`).join("\n"),
    "bin.dat": "function\0binary",
  }, async (fx) => {
    assert.equal(
      await ok(fx, "grep", { pattern: "function\\s+\\w+\\(", glob: "**/*.ts" }),
      "a.ts:1: function main() {}\nsrc/b.ts:2: function helper() {}",
    );
    assert.equal(
      await ok(fx, "grep", { pattern: "main", case_insensitive: true }),
      "a.ts:1: function main() {}\nsrc/b.ts:1: // Main entry\n" +
        "[1 binary or oversized files skipped]",
    );
    assert.equal(
      await ok(fx, "grep", { pattern: "function", path: "src/c.md" }),
      "src/c.md:1: function in docs",
    );
    assert.match(
      await ok(fx, "grep", { pattern: "function", path: "." }),
      /\[1 binary or oversized files skipped\]$/,
    );
    const many = (await ok(fx, "grep", { pattern: "^hit", path: "many.txt" }))
      .split("\n");
    assert.equal(many.length, 201);
    assert.equal(many[0], "many.txt:1: hit 0");
    assert.match(
      many[200]!,
      /more than 200 matching lines; showing the first 200/,
    );
    assert.match(
      await ok(fx, "grep", { pattern: "zzz" }),
      /^No matches for \/zzz\/ in '\.' \(5 files searched\)/,
    );
    assert.match(
      await refused(fx, "grep", { pattern: "foo(" }),
      /grep: invalid regular expression 'foo\('.*Escape special characters/,
    );
  }),
});

Deno.test({
  name:
    "fs: paths outside the workspace (/etc/passwd, ../x, HOME://, /tmp) are refused by the gate, audited, and reported as is_error",
  permissions: PERMS,
  fn: withFs({ "a.txt": "a" }, async (fx) => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        "read_file",
        { path: "/etc/passwd" },
        /VFS_PATH_ESCAPE.*inside the workspace/,
      ],
      ["read_file", { path: "../x" }, /VFS_PATH_ESCAPE.*inside the workspace/],
      ["write_file", { path: "../x", content: "x" }, /VFS_PATH_ESCAPE/],
      [
        "read_file",
        { path: "HOME://.bashrc" },
        /MANIFEST_DENIED.*inside the workspace/,
      ],
      ["write_file", { path: "/tmp/x", content: "x" }, /MANIFEST_DENIED/],
      ["list_directory", { path: "/etc" }, /VFS_PATH_ESCAPE/],
      ["grep", { pattern: "root", path: "/etc/passwd" }, /VFS_PATH_ESCAPE/],
      ["glob", { pattern: "*", path: "home://" }, /MANIFEST_DENIED/],
    ];
    for (const [tool, args, want] of cases) {
      assert.match(
        await refused(fx, tool, args),
        want,
        `${tool} ${JSON.stringify(args)}`,
      );
    }
    const denied = (await audited(fx, "denied")).filter((a) =>
      a.type === "capsule_file_access"
    ).map((a) => a.path ?? "");
    for (const p of ["/etc/passwd", "../x", "/etc"]) {
      assert.ok(denied.includes(p), `${p} in ${JSON.stringify(denied)}`);
    }
    assert.ok(
      denied.some((p) => p.endsWith("/.bashrc")),
      JSON.stringify(denied),
    );
    assert.equal(
      (await fx.tk.kernel.security.audit.verify(fx.tk.kernel.principal)).valid,
      true,
    );
  }),
});

Deno.test({
  name:
    "fs: list_directory and glob cap long listings with a note on how to narrow them",
  permissions: PERMS,
  fn: withFs(
    Object.fromEntries(
      Array.from({ length: 1005 }, (_, i) => [
        `many/f${String(i).padStart(4, "0")}.txt`,
        "",
      ]),
    ),
    async (fx) => {
      const listed = (await ok(fx, "list_directory", { path: "many" }))
        .split("\n");
      assert.equal(listed.length, 1001);
      assert.equal(listed[0], "f0000.txt");
      assert.equal(
        listed[1000],
        "[5 more entries not shown; use glob to narrow down]",
      );
      const globbed = (await ok(fx, "glob", { pattern: "many/*.txt" }))
        .split("\n");
      assert.equal(globbed.length, 501);
      assert.equal(globbed[0], "many/f0000.txt");
      assert.match(
        globbed[500]!,
        /^\[more than 500 files match; showing the first 500\. Use a narrower pattern or path\]$/,
      );
    },
  ),
});
