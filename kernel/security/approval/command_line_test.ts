import assert from "node:assert/strict";
import {
  commandPatternFor,
  matchesCommandPattern,
  renderCommandLine,
} from "./command_line.ts";

/** The pattern an approval of `argv` creates. */
function approved(...argv: string[]): string {
  const [command, ...args] = argv;
  const pattern = commandPatternFor(command!, args);
  assert.ok(pattern !== null, `expected ${argv.join(" ")} to be approvable`);
  return pattern;
}

function runs(pattern: string, ...argv: string[]): boolean {
  const [command, ...args] = argv;
  return matchesCommandPattern(pattern, command!, args);
}

Deno.test({
  name:
    "`matchesCommandPattern()` matches an approved `git status` exactly and nothing else",
  permissions: "none",
  fn() {
    const p = approved("git", "status");
    assert.equal(p, "git status");
    assert.ok(runs(p, "git", "status"));
    assert.ok(!runs(p, "git"));
    assert.ok(!runs(p, "git", "status", "--porcelain"));
    assert.ok(!runs(p, "git", "push"));
  },
});

Deno.test({
  name:
    "`matchesCommandPattern()` lets `cargo *` match bare `cargo` and any arguments",
  permissions: "none",
  fn() {
    assert.ok(runs("cargo *", "cargo"));
    assert.ok(runs("cargo *", "cargo", "build"));
    assert.ok(runs("cargo *", "cargo", "test", "--", "src/lib.rs"));
    assert.ok(!runs("cargo *", "cargo-evil"));
    assert.ok(!runs("cargo *", "/usr/bin/cargo", "build"));
  },
});

Deno.test({
  name:
    "`matchesCommandPattern()` never matches chained or substituted commands (bypass attempts)",
  permissions: "none",
  fn() {
    const wide = "git *";
    const attempts: string[][] = [
      ["git", "status;", "rm", "-rf", "~"],
      ["git", "status", ";", "rm", "-rf", "~"],
      ["git", "status", "&&", "curl", "x"],
      ["git", "status", "||", "curl", "x"],
      ["git", "status", "|", "sh"],
      ["git", "status", "$(id)"],
      ["git", "status", "`id`"],
      ["git", "status\nrm -rf ~"],
      ["git", "status\rrm"],
      ["git", "status", ">", "/etc/passwd"],
      ["git", "status", "<", "/etc/shadow"],
      ["git", "status", "&"],
      ["git", "log", "${IFS}"],
      ["git", "status\0"],
      ["git;id", "status"],
    ];
    for (const argv of attempts) {
      assert.ok(!runs(wide, ...argv), JSON.stringify(argv));
      assert.ok(!runs("*", ...argv), JSON.stringify(argv));
      const [command, ...args] = argv;
      assert.equal(commandPatternFor(command!, args), null);
    }
  },
});

Deno.test({
  name:
    "`commandPatternFor()` escapes glob characters so an approved `*` argument stays literal",
  permissions: "none",
  fn() {
    const p = approved("rm", "*.log");
    assert.equal(p, "rm \\*.log");
    assert.ok(runs(p, "rm", "*.log"));
    assert.ok(!runs(p, "rm", "a.log"));
    const q = approved("ls", "[a-z]?");
    assert.ok(runs(q, "ls", "[a-z]?"));
    assert.ok(!runs(q, "ls", "bx"));
    const b = approved("echo", "a\\*");
    assert.ok(runs(b, "echo", "a\\*"));
    assert.ok(!runs(b, "echo", "a\\bc"));
  },
});

Deno.test({
  name:
    "`renderCommandLine()` keeps argument boundaries so `rm 'a b'` never covers `rm a b`",
  permissions: "none",
  fn() {
    assert.equal(renderCommandLine("rm", ["a b"]), "rm 'a b'");
    assert.equal(renderCommandLine("rm", ["a", "b"]), "rm a b");
    assert.equal(renderCommandLine("echo", ["it's"]), "echo 'it'\\''s'");
    assert.equal(renderCommandLine("echo", [""]), "echo ''");
    assert.equal(renderCommandLine("git status", []), "'git status'");
    const p = approved("rm", "a b");
    assert.ok(runs(p, "rm", "a b"));
    assert.ok(!runs(p, "rm", "a", "b"));
    assert.ok(!runs(approved("git", "status"), "git status"));
    assert.ok(!runs(approved("rm", "a\tb"), "rm", "a", "b"));
  },
});

Deno.test({
  name:
    "`matchesCommandPattern()` refuses paths with `..` segments and invalid patterns",
  permissions: "none",
  fn() {
    assert.ok(!runs("cat *", "cat", "/ws/../etc/passwd"));
    assert.ok(runs("cat *", "cat", "../notes.txt"));
    assert.ok(!runs("cat [", "cat", "["));
    assert.ok(!runs("cat x\ny", "cat", "x"));
  },
});
