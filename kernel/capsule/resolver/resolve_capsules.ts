/**
 * Dependency resolution of capsules (reference §3, made strict): decides
 * which capsules boot, in which order, and why the others do not.
 *
 * @module
 */
import type { CapsuleId } from "../../core/ids.ts";
import type { ImportDef } from "../manifest/manifest_types.ts";
import { cyclePath, cycles, type Graph, kahnByName } from "./_graph.ts";
import type {
  Provider,
  Refusal,
  Resolvable,
  ResolveResult,
  SharedExport,
} from "./resolve_types.ts";
import { buildTree } from "./_build_tree.ts";
import { exportIndex, interfaceKey, providersOf } from "./_index.ts";

function describeImport(imp: ImportDef): string {
  return `${interfaceKey(imp)} ${imp.requirement}`;
}

function whyUnsatisfied(
  capsule: CapsuleId,
  imp: ImportDef,
  all: ReadonlyMap<string, readonly Provider[]>,
  refused: ReadonlyMap<CapsuleId, Refusal>,
): Refusal {
  const matching = providersOf(all, imp, capsule);
  const need = `'${capsule}' needs ${describeImport(imp)}`;
  if (matching.length > 0) {
    const names = matching.map((p) => {
      const r = refused.get(p.capsule);
      return `'${p.capsule}' (${r?.code ?? "refused"})`;
    });
    return {
      capsule,
      code: "dependency_refused",
      reason: `${need}, which only refused capsules provide: ${
        names.join(", ")
      }`,
    };
  }
  const others = (all.get(interfaceKey(imp)) ?? []).filter((p) =>
    p.capsule !== capsule
  );
  if (others.length > 0) {
    return {
      capsule,
      code: "version_mismatch",
      reason: `${need}, but only ${
        others.map((p) => `'${p.capsule}' ${p.version}`).join(", ")
      } export${others.length === 1 ? "s" : ""} it`,
    };
  }
  return {
    capsule,
    code: "missing_import",
    reason: `${need}, which no other capsule exports`,
  };
}

function edges(
  active: ReadonlyMap<CapsuleId, Resolvable>,
  index: ReadonlyMap<string, readonly Provider[]>,
): Graph {
  const graph = new Map<string, Set<string>>();
  for (const [name, c] of active) {
    const providers = new Set<string>();
    for (const imp of c.imports) {
      for (const p of providersOf(index, imp, name)) providers.add(p.capsule);
    }
    graph.set(name, providers);
  }
  return graph;
}

/**
 * Resolves which capsules boot and in which order.
 *
 * Rules (stricter than Astrid 0.5.1, which only logged problems):
 * - The first capsule with a given name wins; later ones are `duplicate`.
 * - An import is satisfied by any *other* capsule exporting the same
 *   `namespace/name` at a version matching the requirement (Cargo semantics).
 * - A required import with no such provider refuses the importer
 *   (`missing_import`, `version_mismatch`, or `dependency_refused` when the
 *   only providers are refused); this repeats until stable, so refusals
 *   propagate. Optional imports never refuse.
 * - Every satisfying provider, for required and optional imports alike,
 *   loads before the importer (Kahn's algorithm; ties by name, so the order
 *   does not depend on discovery order).
 * - Capsules on a dependency cycle are refused (`cycle`), the reason naming
 *   the cycle; capsules behind a cycle are then re-checked (another provider
 *   may still satisfy them).
 * - Several capsules exporting one interface is not a conflict that refuses
 *   anything (reference §3.3–§3.5: "both capsules will be active"); it is
 *   reported in `shared` and in the tree so the operator can see it.
 *
 * @param capsules Manifests (or equivalent) in discovery order.
 * @returns Load order, refusals, shared exports and the tree.
 *
 * @example Resolve a provider and its importer
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveCapsules } from "./resolve_capsules.ts";
 * import type { CapsuleId } from "../../core/ids.ts";
 * const llm = {
 *   package: { name: "llm" as CapsuleId, version: "1.0.0" },
 *   imports: [],
 *   exports: [{ namespace: "astrid", name: "llm", version: "1.2.0" }],
 * };
 * const agent = {
 *   package: { name: "agent" as CapsuleId, version: "1.0.0" },
 *   imports: [{ namespace: "astrid", name: "llm", requirement: "^1.0", range: ">=1.0.0 <2.0.0-0", optional: false }],
 *   exports: [],
 * };
 * const result = resolveCapsules([agent, llm]);
 * assert.deepEqual(result.order, ["llm", "agent"]);
 * assert.deepEqual(result.refused, []);
 * ```
 */
export function resolveCapsules(
  capsules: readonly Resolvable[],
): ResolveResult {
  const unique = new Map<CapsuleId, Resolvable>();
  const refused = new Map<CapsuleId, Refusal>();
  const duplicates: Refusal[] = [];
  for (const c of capsules) {
    const name = c.package.name;
    const first = unique.get(name);
    if (first === undefined) unique.set(name, c);
    else {
      duplicates.push({
        capsule: name,
        code: "duplicate",
        reason:
          `another capsule named '${name}' (${first.package.version}) was found first; ${c.package.version} is skipped`,
      });
    }
  }
  const all = exportIndex(unique.values());
  let order: CapsuleId[] = [];
  for (;;) {
    const active = new Map(
      [...unique].filter(([name]) => !refused.has(name)).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0
      ),
    );
    const index = exportIndex(active.values());
    let changed = false;
    for (const [name, c] of active) {
      const missing = c.imports.find((imp) =>
        !imp.optional && providersOf(index, imp, name).length === 0
      );
      if (missing !== undefined) {
        refused.set(name, whyUnsatisfied(name, missing, all, refused));
        changed = true;
      }
    }
    if (changed) continue;
    const graph = edges(active, index);
    order = kahnByName(graph) as CapsuleId[];
    if (order.length === active.size) break;
    const blocked = new Set(
      [...active.keys()].filter((n) => !order.includes(n)),
    );
    for (const component of cycles(graph, blocked)) {
      const path = cyclePath(graph, component).join(" -> ");
      const scope = component.length === path.split(" -> ").length - 1
        ? `dependency cycle ${path}`
        : `dependency cycle among ${component.join(", ")} (e.g. ${path})`;
      for (const member of component) {
        refused.set(member as CapsuleId, {
          capsule: member as CapsuleId,
          code: "cycle",
          reason: `'${member}' is on a ${scope}; each imports from the next`,
        });
      }
    }
  }
  const loaded = exportIndex(order.map((n) => unique.get(n)!));
  const shared: SharedExport[] = [...loaded]
    .filter(([, exporters]) => exporters.length > 1)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, exporters]) => {
      const [namespace = "", name = ""] = key.split("/");
      return {
        namespace,
        name,
        exporters: [...exporters].sort((a, b) =>
          a.capsule < b.capsule ? -1 : a.capsule > b.capsule ? 1 : 0
        ),
      };
    });
  const allRefused = [...refused.values(), ...duplicates].sort((a, b) =>
    a.capsule < b.capsule ? -1 : a.capsule > b.capsule ? 1 : 0
  );
  return {
    order,
    refused: allRefused,
    shared,
    tree: buildTree(capsules, { order, refused: allRefused, loaded }),
  };
}
