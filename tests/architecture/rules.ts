/**
 * The import rules of DESIGN §2 as data, and a checker that applies them to a
 * tree of source files. `tests/architecture_test.ts` runs it on the real tree
 * and on a fixture that breaks every rule once.
 *
 * @module
 */
import * as path from "node:path";

/** One source file given to the checker: path relative to the repo root, and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** One broken rule. */
export interface Violation {
  readonly file: string;
  readonly rule: string;
  readonly detail: string;
}

/**
 * Which kernel folders each kernel folder may import (besides itself and `sdk/`).
 * Lower layers never import higher ones; the map is a DAG, so there are no cycles.
 * `host` implements ports, so it sees only `core` and the structural KV type of `store`.
 */
export const KERNEL_LAYERS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  crypto: ["core"],
  store: ["core"],
  config: ["core"],
  host: ["core", "store"],
  testing: ["core"],
  audit: ["core", "crypto", "store"],
  capability: ["core", "crypto", "store", "audit"],
  security: ["core", "crypto", "store", "config", "audit", "capability"],
  vfs: ["core", "crypto", "store", "config", "audit", "capability", "security"],
  bus: ["core", "crypto", "store", "audit", "capability", "security"],
  capsule: [
    "core",
    "crypto",
    "store",
    "config",
    "audit",
    "capability",
    "security",
    "vfs",
    "bus",
  ],
  abi: [
    "core",
    "crypto",
    "store",
    "config",
    "audit",
    "capability",
    "security",
    "vfs",
    "bus",
    "capsule",
  ],
  daemon: [
    "core",
    "crypto",
    "store",
    "config",
    "audit",
    "capability",
    "security",
    "vfs",
    "bus",
    "capsule",
    "abi",
    "host",
  ],
  // The cluster (issue 17): node id, registry, session leases and their
  // fencing, status; events across nodes on NATS JetStream (the bridge
  // between a node's kernel bus and the events stream, the NATS connection
  // and its health).
  cluster: [
    "core",
    "crypto",
    "store",
    "config",
    "audit",
    "capability",
    "security",
    "bus",
  ],
  // The daemon's HTTP API: routes over the kernel (daemon) and the session
  // hub port it defines; the hub itself lives in `turn`.
  api: [
    "core",
    "crypto",
    "store",
    "config",
    "audit",
    "capability",
    "security",
    "vfs",
    "bus",
    "capsule",
    "abi",
    "daemon",
    "host",
    "cluster",
  ],
  // The turn API drives a booted runtime (daemon) and is what frontends use;
  // its session hub implements the API's port.
  turn: [
    "core",
    "store",
    "cluster",
    "security",
    "vfs",
    "bus",
    "daemon",
    "api",
  ],
  // The web console: pages over the API client (no kernel internals); the
  // CLI (`astrid web`) and the headless server serve it.
  web: ["core", "api"],
  // The processes: the socket daemon and the headless server compose the
  // kernel, the hub and the API (their entry points are kernel/main.ts and
  // kernel/serve.ts).
  server: [
    "core",
    "crypto",
    "store",
    "config",
    "audit",
    "capability",
    "security",
    "vfs",
    "bus",
    "capsule",
    "abi",
    "daemon",
    "host",
    "api",
    "turn",
    "web",
    "cluster",
  ],
};

/** Entry points of kernel processes: they may touch `Deno.*` (args, exit, log file). */
const ENTRY_POINTS = new Set(["kernel/main.ts", "kernel/serve.ts"]);

const SPECIFIER =
  /(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s*["']([^"']+)["']/g;

/** Removes comments so that JSDoc prose does not count as code. */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /(^|[^:"'`\\])\/\/.*$/gm,
    "$1",
  );
}

/** Every import/export specifier of a module's code. */
export function importSpecifiers(text: string): string[] {
  const code = stripComments(text);
  return [...code.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

/** The one place that combines abort signals (see its module doc). */
const LINKED_SIGNAL = "kernel/core/linked_signal.ts";

function isTestish(file: string): boolean {
  return /_test\.tsx?$/.test(file) || /_bench\.tsx?$/.test(file) ||
    file.startsWith("tests/") ||
    file.startsWith("bench/");
}

function top(file: string): string {
  return file.split("/")[0] ?? "";
}

function kernelFolder(file: string): string | undefined {
  const parts = file.split("/");
  return parts[0] === "kernel" && parts.length > 2 ? parts[1] : undefined;
}

/**
 * Checks every rule on the given files.
 *
 * @param files All source files, paths relative to the repo root with `/`.
 * @returns The violations, in file order.
 */
export function checkArchitecture(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const code = stripComments(f.text);
    if (
      !isTestish(f.path) && /\bDeno\./.test(code) &&
      !f.path.startsWith("kernel/host/") && top(f.path) !== "cli" &&
      !ENTRY_POINTS.has(f.path)
    ) {
      out.push({
        file: f.path,
        rule: "deno-only-in-host",
        detail: "uses Deno.* outside kernel/host/ and cli/",
      });
    }
    const combiner = top(f.path) === "kernel"
      ? /\bAbortSignal\.(any|timeout)\s*\(/
      : /\bAbortSignal\.any\s*\(/;
    if (
      !isTestish(f.path) && f.path !== LINKED_SIGNAL &&
      (top(f.path) === "kernel" || top(f.path) === "cli") &&
      combiner.test(code)
    ) {
      out.push({
        file: f.path,
        rule: "one-signal-combiner",
        detail:
          `combines signals outside ${LINKED_SIGNAL} (use linkSignals: it unlinks when the operation ends)`,
      });
    }
    for (const spec of importSpecifiers(f.text)) {
      const v = checkImport(f.path, spec);
      if (v) out.push({ file: f.path, ...v });
    }
  }
  return out;
}

function checkImport(
  file: string,
  spec: string,
): { rule: string; detail: string } | undefined {
  const relative = spec.startsWith("./") || spec.startsWith("../");
  const target = relative
    ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec))
    : undefined;
  const where = top(file);
  if (where === "sdk") {
    if (!relative || !target?.startsWith("sdk/")) {
      return { rule: "sdk-imports-nothing", detail: `imports ${spec}` };
    }
    return undefined;
  }
  if (where === "capsules") {
    const own = file.split("/").slice(0, 2).join("/") + "/";
    if (spec === "@astrid/sdk" || spec.startsWith("@astrid/sdk/")) {
      return undefined;
    }
    if (relative && target?.startsWith(own)) return undefined;
    // A capsule's own tests drive it through the real kernel's fixtures
    // and its public API (`mod.ts`), asserting with node's built-ins like
    // every other test; they are never bundled.
    if (
      isTestish(file) &&
      (spec.startsWith("node:") || target?.startsWith("tests/") ||
        target === "mod.ts")
    ) {
      return undefined;
    }
    return { rule: "capsules-import-only-sdk", detail: `imports ${spec}` };
  }
  if (!target) return undefined;
  const targetTop = top(target);
  if (where === "kernel") {
    if (targetTop === "cli" || targetTop === "capsules") {
      return {
        rule: "kernel-never-imports-cli-or-capsules",
        detail: `imports ${spec}`,
      };
    }
    const from = kernelFolder(file);
    const to = kernelFolder(target);
    if (!isTestish(file) && to === "testing" && from !== "testing") {
      return { rule: "testing-only-in-tests", detail: `imports ${spec}` };
    }
    if (
      from && to && from !== to && !isTestish(file) &&
      !(KERNEL_LAYERS[from] ?? []).includes(to)
    ) {
      return {
        rule: "kernel-layers",
        detail: `kernel/${from} may not import kernel/${to} (${spec})`,
      };
    }
    return undefined;
  }
  if (
    where === "cli" && targetTop === "kernel" &&
    !target.startsWith("kernel/daemon/client") &&
    !target.startsWith("kernel/api/client_kit") &&
    // The web console is a client of the API too (it imports core and api only).
    !target.startsWith("kernel/web/")
  ) {
    return {
      rule: "cli-never-imports-kernel-internals",
      detail: `imports ${spec}`,
    };
  }
  return undefined;
}
