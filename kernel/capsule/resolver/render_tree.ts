/**
 * Renders the resolution tree as plain ASCII for `astrid capsule tree`.
 *
 * @module
 */
import type { ResolveTreeNode, TreeImport } from "./resolve_types.ts";

function importLine(i: TreeImport): string {
  const head = `${i.namespace}/${i.name} ${i.requirement}${
    i.optional ? " (optional)" : ""
  }`;
  const providers = i.providers.map((p) => `${p.capsule} (${p.version})`);
  const target = providers.length > 0
    ? providers.join(", ")
    : i.status === "optional_missing"
    ? "(none)"
    : "(none - unsatisfied)";
  return `${head} -> ${target}`;
}

function branch(
  lines: string[],
  label: string,
  children: readonly string[],
  last: boolean,
): void {
  lines.push(`${last ? "`-- " : "|-- "}${label}`);
  const pad = last ? "    " : "|   ";
  children.forEach((child, i) => {
    lines.push(`${pad}${i === children.length - 1 ? "`-- " : "|-- "}${child}`);
  });
}

/**
 * Renders a resolution tree: one block per capsule with its exports (and who
 * else exports them) and imports (with the providers that satisfy them).
 *
 * @param tree The `tree` of a resolution.
 * @returns Lines joined by `\n`, no trailing newline; `(no capsules)` when empty.
 *
 * @example Render a small tree
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTree } from "./render_tree.ts";
 * import type { CapsuleId } from "../../core/ids.ts";
 * const text = renderTree([{
 *   capsule: "llm" as CapsuleId, version: "1.0.0", status: "ok", position: 0,
 *   exports: [{ namespace: "astrid", name: "llm", version: "1.0.0", shared_with: [] }],
 *   imports: [],
 * }]);
 * assert.equal(text, "llm 1.0.0\n`-- exports\n    `-- astrid/llm 1.0.0");
 * ```
 */
export function renderTree(tree: readonly ResolveTreeNode[]): string {
  if (tree.length === 0) return "(no capsules)";
  const lines: string[] = [];
  for (const n of tree) {
    lines.push(
      `${n.capsule} ${n.version}${
        n.refusal === undefined
          ? ""
          : ` [refused: ${n.refusal.code}: ${n.refusal.reason}]`
      }`,
    );
    const exports = n.exports.map((e) =>
      `${e.namespace}/${e.name} ${e.version}${
        e.shared_with.length > 0
          ? ` (also exported by ${e.shared_with.join(", ")})`
          : ""
      }`
    );
    const imports = n.imports.map(importLine);
    if (exports.length > 0) {
      branch(lines, "exports", exports, imports.length === 0);
    }
    if (imports.length > 0) branch(lines, "imports", imports, true);
  }
  return lines.join("\n");
}
