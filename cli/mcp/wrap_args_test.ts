import assert from "node:assert/strict";
import { hostLine, parseWrapArgs } from "./wrap_args.ts";

Deno.test({
  name:
    "parseWrapArgs() keeps everything after '--' as the server's command line, never as astrid's options",
  permissions: "none",
  fn() {
    const a = parseWrapArgs([
      "--env",
      "A",
      "--env",
      "B",
      "-w",
      "/ws",
      "--",
      "npx",
      "-y",
      "pkg@1.0.0",
      "--install-only",
      "--",
    ]);
    assert.deepEqual(a.command, [
      "npx",
      "-y",
      "pkg@1.0.0",
      "--install-only",
      "--",
    ]);
    assert.deepEqual(a.env, ["A", "B"]);
    assert.equal(a.installOnly, false);
    assert.equal(a.workspace, "/ws");
  },
});

for (
  const [what, argv, pattern] of [
    ["no '--'", ["npx", "-y", "pkg"], /goes after '--'/],
    ["no '--' and no command", ["--install-only"], /Missing '--'/],
    ["nothing after '--'", ["--"], /Missing the server's command/],
    ["an empty command", ["--", ""], /Missing the server's command/],
    ["an unknown option", ["--allow-all", "--", "x"], /allow-all/],
    [
      "--env with --manifest",
      ["--manifest", "m", "--env", "A", "--", "x"],
      /edit the manifest/,
    ],
    [
      "--learn without --install-only",
      ["--learn", "--", "x"],
      /--install-only/,
    ],
  ] as const
) {
  Deno.test({
    name: `parseWrapArgs() refuses ${what} (a usage error)`,
    permissions: "none",
    fn() {
      assert.throws(
        () => parseWrapArgs(argv),
        (e: Error) => {
          assert.equal(e.name, "UsageError");
          assert.match(e.message, pattern);
          return true;
        },
      );
    },
  });
}

Deno.test({
  name: "parseWrapArgs() with --help needs no command",
  permissions: "none",
  fn() {
    assert.equal(parseWrapArgs(["--help"]).help, true);
  },
});

Deno.test({
  name:
    "hostLine() quotes what a shell would split or expand, and leaves out --install-only, --learn and --yes",
  permissions: "none",
  fn() {
    const args = parseWrapArgs([
      "--install-only",
      "--learn",
      "--yes",
      "--",
      "npx",
      "-y",
      "p@1.0.0",
      "/a b",
      "$HOME",
      "it's",
    ]);
    assert.equal(
      hostLine(args),
      "astrid mcp wrap -- npx -y p@1.0.0 '/a b' '$HOME' 'it'\\''s'",
    );
  },
});
