import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { canonicalizePath, MAX_PATH_BYTES, PathRules } from "./path_rules.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

test("`canonicalizePath()` collapses `//`, `.` and a trailing slash", () => {
  assert.deepEqual(canonicalizePath("//ws///src/./a.ts/"), {
    ok: true,
    path: "/ws/src/a.ts",
  });
  assert.deepEqual(canonicalizePath("/"), { ok: true, path: "/" });
  assert.deepEqual(canonicalizePath("/./."), { ok: true, path: "/" });
});

test("`canonicalizePath()` keeps names that merely contain dots", () => {
  assert.deepEqual(canonicalizePath("/ws/file..txt/.../.git"), {
    ok: true,
    path: "/ws/file..txt/.../.git",
  });
});

test("`canonicalizePath()` refuses a `..` component instead of resolving it", () => {
  for (const p of ["/ws/../etc/passwd", "/..", "/ws/..", "/a/b/../../.."]) {
    const r = canonicalizePath(p);
    assert.equal(r.ok, false, p);
    if (!r.ok) assert.match(r.reason, /'\.\.' component/);
  }
});

test("`canonicalizePath()` refuses `..` smuggled between backslashes", () => {
  assert.equal(canonicalizePath("/ws\\..\\etc").ok, false);
});

test("`canonicalizePath()` refuses relative paths", () => {
  for (const p of ["etc/passwd", "./a", "", "~/.ssh", "C:/x"]) {
    const r = canonicalizePath(p);
    assert.equal(r.ok, false, p);
    if (!r.ok) assert.match(r.reason, /not absolute/);
  }
});

test("`canonicalizePath()` refuses a NUL byte", () => {
  const r = canonicalizePath("/ws/a\0/etc/passwd");
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /NUL/);
});

test("`canonicalizePath()` accepts exactly 4096 bytes and refuses 4097", () => {
  const at = `/${"a".repeat(MAX_PATH_BYTES - 1)}`;
  assert.equal(canonicalizePath(at).ok, true);
  const over = `${at}b`;
  const r = canonicalizePath(over);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.reason, /4097 bytes/);
});

test("`canonicalizePath()` counts UTF-8 bytes, not UTF-16 units", () => {
  const p = `/${"é".repeat(2048)}`; // 1 + 4096 bytes, 2049 units
  assert.equal(canonicalizePath(p).ok, false);
});

test("`PathRules.check()` denies `/etc` itself and everything below `/etc/**`", () => {
  const rules = new PathRules({ denied: ["/etc/**"] });
  for (
    const p of ["/etc", "/etc/passwd", "/etc/ssh/sshd_config", "//etc/./x"]
  ) {
    const hit = rules.check(p);
    assert.equal(hit?.rule, "denied_paths", p);
    assert.equal(hit?.entry, "/etc/**");
  }
});

test("`PathRules.check()` allows siblings of a denied tree", () => {
  const rules = new PathRules({ denied: ["/etc/**"] });
  for (const p of ["/etcetera", "/home/u/etc/x", "/"]) {
    assert.equal(rules.check(p), null, p);
  }
});

test("`PathRules.check()` treats a literal pattern as the path and its subtree", () => {
  const rules = new PathRules({ denied: ["/home/u/.ssh"] });
  assert.equal(rules.check("/home/u/.ssh")?.rule, "denied_paths");
  assert.equal(rules.check("/home/u/.ssh/id_ed25519")?.rule, "denied_paths");
  assert.equal(rules.check("/home/u/.sshx"), null);
});

test("`PathRules.check()` honours `**/` patterns anywhere in the tree", () => {
  const rules = new PathRules({ denied: ["**/.env"] });
  assert.equal(rules.check("/ws/app/.env")?.rule, "denied_paths");
  assert.equal(rules.check("/ws/app/.envrc"), null);
});

test("`PathRules.check()` allows only allowed_paths when the list is non-empty", () => {
  const rules = new PathRules({ allowed: ["/ws/**", "/tmp/astrid"] });
  assert.equal(rules.check("/ws/src/a.ts"), null);
  assert.equal(rules.check("/tmp/astrid/x"), null);
  assert.equal(rules.check("/home/u/x")?.rule, "allowed_paths");
  assert.equal(rules.check("/wsx/a")?.rule, "allowed_paths");
});

test("`PathRules.check()` with an empty allowed list restricts nothing", () => {
  assert.equal(new PathRules({ allowed: [] }).check("/anything/at/all"), null);
});

test("`PathRules.check()` lets deny beat allow", () => {
  const rules = new PathRules({
    denied: ["/ws/secrets/**"],
    allowed: ["/ws/**"],
  });
  assert.equal(rules.check("/ws/ok.txt"), null);
  assert.equal(rules.check("/ws/secrets/key")?.rule, "denied_paths");
});

test("`PathRules.check()` cannot be walked out of an allowed tree by traversal", () => {
  const rules = new PathRules({ allowed: ["/ws/**"] });
  const hit = rules.check("/ws/../etc/passwd");
  assert.equal(hit?.rule, "invalid_path");
  assert.equal(rules.check("/ws/a\0b")?.rule, "invalid_path");
  assert.equal(rules.check("ws/a")?.rule, "invalid_path");
});

test("`new PathRules()` names the key and pattern of an invalid glob", () => {
  assert.throws(
    () => new PathRules({ denied: ["/etc/[abc"] }),
    (e) =>
      KernelError.is(e, "CONFIG_INVALID") &&
      e.message.includes("security.policy.denied_paths") &&
      e.message.includes('"/etc/[abc"') &&
      e.data?.pattern === "/etc/[abc",
  );
  assert.throws(
    () => new PathRules({ allowed: ["/ws/a**"] }),
    (e) =>
      KernelError.is(e, "CONFIG_INVALID") &&
      e.message.includes("security.policy.allowed_paths"),
  );
});

test("`new PathRules()` refuses relative and `..` patterns instead of never matching", () => {
  for (const p of ["secrets/**", "~/.ssh", "/ws/../etc"]) {
    assert.throws(
      () => new PathRules({ denied: [p] }),
      (e) => KernelError.is(e, "CONFIG_INVALID"),
      p,
    );
  }
});

test("`PathRules.check()` answers a repeated path the same (frozen), and stays right past its bounded memory", () => {
  const rules = new PathRules({ denied: ["/etc/**"], allowed: ["/ws/**"] });
  const hit = rules.check("/etc/passwd");
  assert.equal(rules.check("/etc/passwd"), hit);
  assert.ok(hit !== null && Object.isFrozen(hit));
  assert.equal(rules.check("/ws/../etc/passwd")?.rule, "invalid_path");
  for (let i = 0; i < 2_000; i++) {
    assert.equal(rules.check(`/ws/f${i}`), null);
    assert.equal(rules.check(`/tmp/f${i}`)?.rule, "allowed_paths");
  }
  assert.equal(rules.check("/etc/passwd")?.rule, "denied_paths");
});
