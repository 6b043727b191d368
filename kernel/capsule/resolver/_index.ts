/**
 * Interface lookup shared by the resolver and the tree builder.
 *
 * @module
 */
import type { CapsuleId } from "../../core/ids.ts";
import type { ImportDef } from "../manifest/manifest_types.ts";
import { satisfiesRange } from "../manifest/semver_rules.ts";
import type { Provider, Resolvable } from "./resolve_types.ts";

/** `namespace/name`, the key of an interface. */
export function interfaceKey(i: { namespace: string; name: string }): string {
  return `${i.namespace}/${i.name}`;
}

/** Exporters of each interface among `capsules`. */
export function exportIndex(
  capsules: Iterable<Resolvable>,
): Map<string, Provider[]> {
  const index = new Map<string, Provider[]>();
  for (const c of capsules) {
    for (const e of c.exports) {
      const list = index.get(interfaceKey(e)) ?? [];
      list.push({ capsule: c.package.name, version: e.version });
      index.set(interfaceKey(e), list);
    }
  }
  return index;
}

/** Providers other than `self` whose export satisfies `imp`. */
export function providersOf(
  index: ReadonlyMap<string, readonly Provider[]>,
  imp: ImportDef,
  self: CapsuleId,
): Provider[] {
  return (index.get(interfaceKey(imp)) ?? []).filter((p) =>
    p.capsule !== self && satisfiesRange(p.version, imp.range)
  );
}
