import assert from "node:assert/strict";
import type { CapsuleId } from "../../core/ids.ts";
import { toSemverRange } from "../manifest/semver_rules.ts";
import { renderTree } from "./render_tree.ts";
import { resolveCapsules } from "./resolve_capsules.ts";
import type { Resolvable } from "./resolve_types.ts";

function imp(
  namespace: string,
  name: string,
  requirement: string,
  optional = false,
) {
  return {
    namespace,
    name,
    requirement,
    range: toSemverRange(requirement)!,
    optional,
  };
}

const CAPSULES: Resolvable[] = [
  {
    package: { name: "agent" as CapsuleId, version: "0.1.0" },
    imports: [
      imp("astrid", "llm", "^1.0"),
      imp("astrid", "memory", "^1", true),
    ],
    exports: [{ namespace: "astrid", name: "agent", version: "1.0.0" }],
  },
  {
    package: { name: "openai" as CapsuleId, version: "0.2.0" },
    imports: [],
    exports: [{ namespace: "astrid", name: "llm", version: "1.0.0" }],
  },
  {
    package: { name: "anthropic" as CapsuleId, version: "0.3.0" },
    imports: [],
    exports: [{ namespace: "astrid", name: "llm", version: "1.2.0" }],
  },
  {
    package: { name: "shell" as CapsuleId, version: "0.1.0" },
    imports: [imp("astrid", "tool", "^2")],
    exports: [],
  },
];

Deno.test({
  name:
    "`renderTree()` prints exports, imports, providers, shared exports and refusals as ASCII",
  permissions: "none",
  fn() {
    const text = renderTree(resolveCapsules(CAPSULES).tree);
    assert.equal(
      text,
      [
        "anthropic 0.3.0",
        "`-- exports",
        "    `-- astrid/llm 1.2.0 (also exported by openai)",
        "openai 0.2.0",
        "`-- exports",
        "    `-- astrid/llm 1.0.0 (also exported by anthropic)",
        "agent 0.1.0",
        "|-- exports",
        "|   `-- astrid/agent 1.0.0",
        "`-- imports",
        "    |-- astrid/llm ^1.0 -> anthropic (1.2.0), openai (1.0.0)",
        "    `-- astrid/memory ^1 (optional) -> (none)",
        "shell 0.1.0 [refused: missing_import: 'shell' needs astrid/tool ^2, which no other capsule exports]",
        "`-- imports",
        "    `-- astrid/tool ^2 -> (none - unsatisfied)",
      ].join("\n"),
    );
    assert.ok(/^[\x20-\x7e\n]*$/.test(text), "ASCII only");
  },
});

Deno.test({
  name:
    "`renderTree()` prints a placeholder for an empty tree and a bare line for a capsule without interfaces",
  permissions: "none",
  fn() {
    assert.equal(renderTree([]), "(no capsules)");
    const tree = resolveCapsules([{
      package: { name: "lonely" as CapsuleId, version: "1.0.0" },
      imports: [],
      exports: [],
    }]).tree;
    assert.equal(renderTree(tree), "lonely 1.0.0");
  },
});
