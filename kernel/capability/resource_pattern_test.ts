import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import {
  isPermissionSubset,
  normalizePermissions,
  type Permission,
} from "./permission.ts";
import {
  compileResourcePattern as compile,
  hasTraversal,
  MAX_PATTERN_LENGTH,
  MAX_RESOURCE_LENGTH,
  patternCovers,
} from "./resource_pattern.ts";

Deno.test({
  name:
    "`compileResourcePattern()` matches globs by segment and exact strings exactly",
  permissions: "none",
  fn() {
    const ws = compile("file:///ws/**");
    assert.ok(ws.isGlob);
    assert.ok(ws.matches("file:///ws"));
    assert.ok(ws.matches("file:///ws/a/b/c.txt"));
    assert.ok(!ws.matches("file:///wsx/a"));
    assert.ok(!ws.matches("file:///"));
    const tools = compile("mcp://*:read_*");
    assert.ok(tools.matches("mcp://memory:read_graph"));
    assert.ok(!tools.matches("mcp://memory:write_graph"));
    const exact = compile("mcp://memory:read_graph");
    assert.ok(!exact.isGlob);
    assert.ok(exact.matches("mcp://memory:read_graph"));
    assert.ok(!exact.matches("mcp://memory:read_graphs"));
    assert.ok(!exact.matches("MCP://memory:read_graph"));
  },
});

Deno.test({
  name:
    "`compileResourcePattern()` never matches a resource with traversal, also encoded or against an exact pattern",
  permissions: "none",
  fn() {
    const ws = compile("file:///ws/**");
    for (
      const resource of [
        "file:///ws/../etc/passwd",
        "file:///ws/a/../../etc",
        "file:///ws/%2e%2e/etc",
        "file:///ws/%2E./etc",
        "file:///ws/..%2Fetc",
        "file:///ws/a\\..\\..\\etc",
        "file:///ws/a\0b",
        "file:///ws/a%00b",
        `file:///ws/${"a".repeat(MAX_RESOURCE_LENGTH)}`,
      ]
    ) {
      assert.ok(!ws.matches(resource), resource);
    }
    const exact = compile("file:///ws/%2e%2e_not_traversal");
    assert.ok(exact.matches("file:///ws/%2e%2e_not_traversal"));
    assert.ok(ws.matches("file:///ws/file..txt"));
    assert.ok(ws.matches("file:///ws/..."));
    assert.ok(!ws.matches(42 as unknown as string));
  },
});

Deno.test({
  name: "`compileResourcePattern()` rejects malformed and traversing patterns",
  permissions: "none",
  fn() {
    const input = (e: unknown) => KernelError.is(e, "INVALID_INPUT");
    for (
      const pattern of [
        "",
        "file:///ws/../**",
        "file:///ws/%2e%2E/**",
        "file:///ws/\\*",
        "file:///ws/a\nb",
        "x".repeat(MAX_PATTERN_LENGTH + 1),
        7 as unknown as string,
      ]
    ) {
      assert.throws(() => compile(pattern), input, String(pattern));
    }
    assert.throws(
      () => compile("file:///ws/[a"),
      (e) => KernelError.is(e, "GLOB_INVALID"),
    );
    assert.throws(
      () => compile("file:///ws/a**"),
      (e) => KernelError.is(e, "GLOB_INVALID"),
    );
  },
});

Deno.test({
  name: "`patternCovers()` accepts only provably narrower patterns",
  permissions: "none",
  fn() {
    const covers = (p: string, c: string) =>
      patternCovers(compile(p), compile(c));
    assert.ok(covers("file:///ws/**", "file:///ws/**"));
    assert.ok(covers("file:///ws/**", "file:///ws/src/**"));
    assert.ok(covers("file:///ws/**", "file:///ws/*.md"));
    assert.ok(covers("file:///ws/**", "file:///ws/a/[ab]?.ts"));
    assert.ok(covers("file:///ws/**", "file:///ws/a.txt"));
    assert.ok(covers("**", "mcp://any:*"));
    assert.ok(covers("mcp://*:read_*", "mcp://memory:read_graph"));
    assert.ok(covers("file:///*/x/**", "file:///*/x/y/*"));
    assert.ok(!covers("file:///ws/**", "file:///**"));
    assert.ok(!covers("file:///ws/**", "file:///ws*"));
    assert.ok(!covers("file:///ws/**", "file:///wsx/**"));
    assert.ok(!covers("file:///ws/**", "**"));
    assert.ok(!covers("file:///ws/*", "file:///ws/a*"));
    assert.ok(!covers("mcp://*:*", "mcp://memory:*"));
    assert.ok(!covers("mcp://memory:read_graph", "mcp://memory:*"));
    assert.ok(!covers("file:///ws/a.txt", "file:///ws/b.txt"));
  },
});

Deno.test({
  name:
    "`hasTraversal()` flags dot-dot segments across separators and encodings only",
  permissions: "none",
  fn() {
    assert.ok(hasTraversal(".."));
    assert.ok(hasTraversal("a/.."));
    assert.ok(hasTraversal("a\\..\\b"));
    assert.ok(hasTraversal("a/%2e%2e/b"));
    assert.ok(hasTraversal("a/.%2E/b"));
    assert.ok(hasTraversal("a%2f..%2fb"));
    assert.ok(hasTraversal("a%5c..%5cb"));
    assert.ok(!hasTraversal("a/.../b"));
    assert.ok(!hasTraversal("a/..b/c"));
    assert.ok(!hasTraversal("a/b..c"));
  },
});

Deno.test({
  name:
    "`normalizePermissions()` sorts and de-duplicates, and refuses unknown or empty lists",
  permissions: "none",
  fn() {
    assert.deepEqual(
      normalizePermissions(["create", "read", "create", "delete"]),
      ["read", "delete", "create"],
    );
    const input = (e: unknown) => KernelError.is(e, "INVALID_INPUT");
    assert.throws(() => normalizePermissions([]), input);
    assert.throws(() => normalizePermissions(["root" as Permission]), input);
    assert.throws(
      () => normalizePermissions("read" as unknown as Permission[]),
      input,
    );
    assert.ok(isPermissionSubset([], ["read"]));
    assert.ok(!isPermissionSubset(["write"], ["read"]));
  },
});
