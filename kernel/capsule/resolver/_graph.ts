/**
 * Graph helpers of the resolver: Kahn's algorithm with ties broken by name,
 * strongly connected components (Tarjan), and one readable cycle through a
 * component. Edges point from an importer to its provider (`a → b`: `a`
 * imports from `b`, so `b` loads first).
 *
 * @module
 */

/** Importer → providers. Every node is a key. */
export type Graph = ReadonlyMap<string, ReadonlySet<string>>;

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Kahn's algorithm on importer → provider edges: providers come first and,
 * among ready nodes, the smallest name wins.
 *
 * @returns The nodes in load order; nodes on or behind a cycle are absent.
 */
export function kahnByName(graph: Graph): string[] {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [node, providers] of graph) {
    waiting.set(node, providers.size);
    for (const p of providers) {
      const list = dependents.get(p) ?? [];
      list.push(node);
      dependents.set(p, list);
    }
  }
  const ready = [...waiting].filter(([, n]) => n === 0).map(([k]) => k);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort(byName);
    const next = ready.shift()!;
    order.push(next);
    for (const d of dependents.get(next) ?? []) {
      const n = (waiting.get(d) ?? 0) - 1;
      waiting.set(d, n);
      if (n === 0) ready.push(d);
    }
  }
  return order;
}

/**
 * The strongly connected components with more than one node (a node never
 * imports from itself), each sorted by name, restricted to `nodes`.
 */
export function cycles(graph: Graph, nodes: ReadonlySet<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of [...(graph.get(v) ?? [])].sort(byName)) {
      if (!nodes.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort(byName));
    }
  };
  for (const v of [...nodes].sort(byName)) if (!index.has(v)) visit(v);
  return out.sort((a, b) => byName(a[0]!, b[0]!));
}

/**
 * The shortest cycle through the smallest node of a component, following
 * edges in name order: `[a, b, c, a]`.
 */
export function cyclePath(
  graph: Graph,
  component: readonly string[],
): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of [...(graph.get(v) ?? [])].sort(byName)) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let p = v; p !== start;) {
          p = parent.get(p)!;
          path.push(p);
        }
        return [...path.reverse(), start];
      }
      if (!parent.has(w) && w !== start) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}
