import assert from "node:assert/strict";
import type { CapsuleId } from "../../core/ids.ts";
import { parseManifest } from "../manifest/parse_manifest.ts";
import { toSemverRange } from "../manifest/semver_rules.ts";
import { resolveCapsules } from "./resolve_capsules.ts";
import type { Resolvable } from "./resolve_types.ts";

/**
 * A capsule: exports as `ns/name@1.0.0`, imports as `ns/name ^1.0`, with a
 * trailing `?` for an optional import.
 */
function cap(
  name: string,
  spec: { exports?: string[]; imports?: string[]; version?: string } = {},
): Resolvable {
  return {
    package: { name: name as CapsuleId, version: spec.version ?? "1.0.0" },
    exports: (spec.exports ?? []).map((e) => {
      const [iface = "", version = ""] = e.split("@");
      const [namespace = "", n = ""] = iface.split("/");
      return { namespace, name: n, version };
    }),
    imports: (spec.imports ?? []).map((i) => {
      const optional = i.endsWith("?");
      const [iface = "", ...req] = i.replace(/\?$/, "").split(" ");
      const requirement = req.join(" ");
      const [namespace = "", n = ""] = iface.split("/");
      const range = toSemverRange(requirement);
      assert.ok(range !== null, requirement);
      return { namespace, name: n, requirement, range, optional };
    }),
  };
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((
      p,
    ) => [x, ...p])
  );
}

Deno.test({
  name: "`resolveCapsules()` orders a linear chain providers first",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("app", { imports: ["x/mid ^1"] }),
      cap("mid", { exports: ["x/mid@1.0.0"], imports: ["x/base ^1"] }),
      cap("base", { exports: ["x/base@1.0.0"] }),
    ]);
    assert.deepEqual(result.order, ["base", "mid", "app"]);
    assert.deepEqual(result.refused, []);
    assert.deepEqual(result.tree.map((n) => [n.capsule, n.position]), [
      ["base", 0],
      ["mid", 1],
      ["app", 2],
    ]);
  },
});

Deno.test({
  name:
    "`resolveCapsules()` orders a diamond the same way for every discovery order",
  permissions: "none",
  fn() {
    const caps = [
      cap("top", { imports: ["x/left ^1", "x/right ^1"] }),
      cap("left", { exports: ["x/left@1.0.0"], imports: ["x/base ^1"] }),
      cap("right", { exports: ["x/right@1.0.0"], imports: ["x/base ^1"] }),
      cap("base", { exports: ["x/base@1.0.0"] }),
      cap("loner"),
    ];
    for (const p of permutations(caps)) {
      assert.deepEqual(resolveCapsules(p).order, [
        "base",
        "left",
        "loner",
        "right",
        "top",
      ]);
    }
  },
});

Deno.test({
  name: "`resolveCapsules()` loads a capsule whose optional import is missing",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("app", { imports: ["astrid/memory ^1?"] }),
    ]);
    assert.deepEqual(result.order, ["app"]);
    assert.deepEqual(result.refused, []);
    assert.equal(result.tree[0]?.imports[0]?.status, "optional_missing");
  },
});

Deno.test({
  name:
    "`resolveCapsules()` refuses a missing required import, naming importer, interface and requirement, and loads the rest",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("agent", { imports: ["astrid/llm ^1.0"] }),
      cap("fs", { exports: ["astrid/tool@1.0.0"] }),
    ]);
    assert.deepEqual(result.order, ["fs"]);
    assert.deepEqual(result.refused, [{
      capsule: "agent",
      code: "missing_import",
      reason: "'agent' needs astrid/llm ^1.0, which no other capsule exports",
    }]);
    assert.equal(result.tree.at(-1)?.status, "refused");
    assert.equal(result.tree.at(-1)?.imports[0]?.status, "missing");
  },
});

Deno.test({
  name:
    "`resolveCapsules()` refuses a semver mismatch and lists the versions on offer",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("agent", { imports: ["astrid/llm ^2.0"] }),
      cap("openai", { exports: ["astrid/llm@1.4.0"] }),
      cap("beta", { exports: ["astrid/llm@2.0.0-rc.1"] }),
    ]);
    assert.deepEqual(result.order, ["beta", "openai"]);
    assert.equal(result.refused[0]?.code, "version_mismatch");
    assert.equal(
      result.refused[0]?.reason,
      "'agent' needs astrid/llm ^2.0, but only 'openai' 1.4.0, 'beta' 2.0.0-rc.1 export it",
    );
  },
});

Deno.test({
  name:
    "`resolveCapsules()` refuses both members of a 2-cycle, naming it, and loads the others",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("b", { exports: ["x/b@1.0.0"], imports: ["x/a ^1"] }),
      cap("a", { exports: ["x/a@1.0.0"], imports: ["x/b ^1"] }),
      cap("ok"),
    ]);
    assert.deepEqual(result.order, ["ok"]);
    assert.deepEqual(result.refused.map((r) => [r.capsule, r.code]), [[
      "a",
      "cycle",
    ], ["b", "cycle"]]);
    for (const r of result.refused) {
      assert.match(r.reason, /dependency cycle a -> b -> a/);
    }
  },
});

Deno.test({
  name: "`resolveCapsules()` names a 3-cycle in import order",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("a", { exports: ["x/a@1.0.0"], imports: ["x/b ^1"] }),
      cap("b", { exports: ["x/b@1.0.0"], imports: ["x/c ^1"] }),
      cap("c", { exports: ["x/c@1.0.0"], imports: ["x/a ^1"] }),
    ]);
    assert.deepEqual(result.order, []);
    assert.equal(result.refused.length, 3);
    for (const r of result.refused) {
      assert.equal(r.code, "cycle");
      assert.match(
        r.reason,
        new RegExp(`^'${r.capsule}' is on a dependency cycle a -> b -> c -> a`),
      );
    }
  },
});

Deno.test({
  name:
    "`resolveCapsules()` refuses what depends only on a cycle but keeps a capsule with another provider",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("a", { exports: ["x/a@1.0.0", "x/log@1.0.0"], imports: ["x/b ^1"] }),
      cap("b", { exports: ["x/b@1.0.0"], imports: ["x/a ^1"] }),
      cap("needs-a", { imports: ["x/a ^1"] }),
      cap("needs-log", { imports: ["x/log ^1"] }),
      cap("logger", { exports: ["x/log@1.2.0"] }),
    ]);
    assert.deepEqual(result.order, ["logger", "needs-log"]);
    const needsA = result.refused.find((r) => r.capsule === "needs-a");
    assert.equal(needsA?.code, "dependency_refused");
    assert.equal(
      needsA?.reason,
      "'needs-a' needs x/a ^1, which only refused capsules provide: 'a' (cycle)",
    );
  },
});

Deno.test({
  name: "`resolveCapsules()` propagates refusals down a chain",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("top", { imports: ["x/mid ^1"] }),
      cap("mid", { exports: ["x/mid@1.0.0"], imports: ["x/gone ^1"] }),
    ]);
    assert.deepEqual(result.order, []);
    assert.deepEqual(result.refused.map((r) => [r.capsule, r.code]), [
      ["mid", "missing_import"],
      ["top", "dependency_refused"],
    ]);
  },
});

Deno.test({
  name:
    "`resolveCapsules()` keeps both exporters of one interface, reports them as shared, and loads importers after both",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("agent", { imports: ["astrid/llm ^1"] }),
      cap("openai", { exports: ["astrid/llm@1.0.0"] }),
      cap("anthropic", { exports: ["astrid/llm@1.1.0"] }),
    ]);
    assert.deepEqual(result.order, ["anthropic", "openai", "agent"]);
    assert.deepEqual(result.shared, [{
      namespace: "astrid",
      name: "llm",
      exporters: [{ capsule: "anthropic", version: "1.1.0" }, {
        capsule: "openai",
        version: "1.0.0",
      }],
    }]);
    const agent = result.tree.find((n) => n.capsule === "agent");
    assert.deepEqual(agent?.imports[0]?.providers.map((p) => p.capsule), [
      "anthropic",
      "openai",
    ]);
    const openai = result.tree.find((n) => n.capsule === "openai");
    assert.deepEqual(openai?.exports[0]?.shared_with, ["anthropic"]);
  },
});

Deno.test({
  name:
    "`resolveCapsules()` keeps the first of two capsules with one name and refuses the second",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("dup", { version: "1.0.0" }),
      cap("dup", { version: "2.0.0" }),
    ]);
    assert.deepEqual(result.order, ["dup"]);
    assert.equal(result.refused[0]?.code, "duplicate");
    assert.match(
      result.refused[0]?.reason ?? "",
      /\(1\.0\.0\) was found first; 2\.0\.0 is skipped/,
    );
    assert.deepEqual(result.tree.map((n) => [n.version, n.status]), [[
      "1.0.0",
      "ok",
    ], ["2.0.0", "refused"]]);
  },
});

Deno.test({
  name: "`resolveCapsules()` never lets a capsule satisfy its own import",
  permissions: "none",
  fn() {
    const result = resolveCapsules([
      cap("self", { exports: ["x/y@1.0.0"], imports: ["x/y ^1"] }),
    ]);
    assert.equal(result.refused[0]?.code, "missing_import");
  },
});

Deno.test({
  name: "`resolveCapsules()` accepts parsed manifests directly",
  permissions: "none",
  fn() {
    const parse = (text: string) => {
      const r = parseManifest(text, {
        file: "Capsule.toml",
        kernelVersion: "0.1.0",
      });
      assert.ok(r.ok);
      return r.value;
    };
    const result = resolveCapsules([
      parse(
        '[package]\nname = "agent"\nversion = "0.1.0"\n[imports.astrid]\nllm = "1"\nmemory = { version = "^1", optional = true }\n',
      ),
      parse(
        '[package]\nname = "llm"\nversion = "0.1.0"\n[exports.astrid]\nllm = "1.3.0"\n',
      ),
    ]);
    assert.deepEqual(result.order, ["llm", "agent"]);
  },
});
