/**
 * Builds the `capsule tree` structure from a resolution.
 *
 * @module
 */
import type { CapsuleId } from "../../core/ids.ts";
import { providersOf } from "./_index.ts";
import type {
  Provider,
  Refusal,
  Resolvable,
  ResolveTreeNode,
  TreeImport,
} from "./resolve_types.ts";

/** What {@linkcode buildTree} needs from the resolution. */
export interface TreeInput {
  readonly order: readonly CapsuleId[];
  readonly refused: readonly Refusal[];
  /** Exporters among loaded capsules, by `namespace/name`. */
  readonly loaded: ReadonlyMap<string, readonly Provider[]>;
}

function node(
  c: Resolvable,
  input: TreeInput,
  refusal: Refusal | undefined,
): ResolveTreeNode {
  const self = c.package.name;
  const imports: TreeImport[] = c.imports.map((imp) => {
    const providers = providersOf(input.loaded, imp, self);
    return {
      namespace: imp.namespace,
      name: imp.name,
      requirement: imp.requirement,
      optional: imp.optional,
      providers,
      status: providers.length > 0
        ? "satisfied"
        : imp.optional
        ? "optional_missing"
        : "missing",
    };
  });
  const exports = c.exports.map((e) => ({
    namespace: e.namespace,
    name: e.name,
    version: e.version,
    shared_with: (input.loaded.get(`${e.namespace}/${e.name}`) ?? [])
      .map((p) => p.capsule)
      .filter((n) => n !== self),
  }));
  const position = refusal === undefined ? input.order.indexOf(self) : -1;
  return {
    capsule: self,
    version: c.package.version,
    status: refusal === undefined ? "ok" : "refused",
    position: position < 0 ? null : position,
    ...(refusal === undefined
      ? {}
      : { refusal: { code: refusal.code, reason: refusal.reason } }),
    exports,
    imports,
  };
}

/**
 * One node per input capsule: loaded ones in load order, then refused ones
 * by name (a duplicate keeps its discovery position among refusals).
 */
export function buildTree(
  capsules: readonly Resolvable[],
  input: TreeInput,
): ResolveTreeNode[] {
  const seen = new Set<CapsuleId>();
  const duplicates = input.refused.filter((r) => r.code === "duplicate");
  const loaded: ResolveTreeNode[] = [];
  const refused: ResolveTreeNode[] = [];
  for (const c of capsules) {
    const name = c.package.name;
    let refusal: Refusal | undefined;
    if (seen.has(name)) {
      const i = duplicates.findIndex((r) => r.capsule === name);
      refusal = duplicates.splice(i, 1)[0];
    } else {
      refusal = input.refused.find((r) =>
        r.capsule === name && r.code !== "duplicate"
      );
    }
    seen.add(name);
    (refusal === undefined ? loaded : refused).push(node(c, input, refusal));
  }
  loaded.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  refused.sort((a, b) =>
    a.capsule < b.capsule ? -1 : a.capsule > b.capsule ? 1 : 0
  );
  return [...loaded, ...refused];
}
