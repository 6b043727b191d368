/**
 * Capsule dependency resolution (reference §3): which capsules boot, in which
 * order, and why the others are refused; plus the tree `capsule tree` prints.
 *
 * Capsules declare namespaced interfaces: `[exports.astrid] llm = "1.0.0"`
 * (exact versions) and `[imports.astrid] llm = "^1.0"` (Cargo-style
 * requirements, optionally `{ version, optional = true }`).
 * {@linkcode resolveCapsules} orders providers before importers with Kahn's
 * algorithm (ties by name, so the order is deterministic) and refuses —
 * without stopping the others — duplicates, capsules with an unsatisfied
 * required import (naming importer, interface and requirement, and the
 * versions on offer), capsules on a dependency cycle (naming the cycle), and
 * capsules whose only providers were refused. Optional imports never refuse.
 * Two capsules exporting the same interface are both kept, as in Astrid 0.5
 * ("both capsules will be active"); the overlap is listed in `shared` and
 * shown in the tree. {@linkcode renderTree} prints the tree as ASCII.
 *
 * @example Resolve and print
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTree, resolveCapsules } from "./mod.ts";
 * import type { CapsuleId } from "../../core/ids.ts";
 * const result = resolveCapsules([{
 *   package: { name: "agent" as CapsuleId, version: "0.1.0" },
 *   imports: [{ namespace: "astrid", name: "llm", requirement: "^1.0", range: ">=1.0.0 <2.0.0-0", optional: false }],
 *   exports: [],
 * }]);
 * assert.deepEqual(result.order, []);
 * assert.equal(result.refused[0]?.code, "missing_import");
 * assert.match(renderTree(result.tree), /astrid\/llm \^1\.0 -> \(none - unsatisfied\)/);
 * ```
 *
 * @module
 */
export type {
  Provider,
  Refusal,
  RefusalCode,
  Resolvable,
  ResolveResult,
  ResolveTreeNode,
  SharedExport,
  TreeExport,
  TreeImport,
} from "./resolve_types.ts";
export { resolveCapsules } from "./resolve_capsules.ts";
export { renderTree } from "./render_tree.ts";
