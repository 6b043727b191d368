/**
 * Private: the mount part of every bubblewrap command line (MCP servers and
 * `process_spawn`): a read-only host root, a fresh `/dev` and `/proc`, empty
 * masks, read-only binds of granted roots that a mask covers, the one
 * writable dir, and — for a spawned process — the session's overlay view
 * bound over the workspace path.
 *
 * Security model: mounts are emitted shallowest first, so a deeper mount is
 * never covered by a shallower one; at the same path a hidden dir's mask comes
 * last, so no grant equal to it or above it reveals it. Inside a hidden dir
 * only the `revealable` roots (the capsule dir, the principal home) and
 * `writableDir` are bound back, with their granted parts: a manifest cannot
 * name e.g. the kernel's keys dir by absolute path and get it. Every mask but
 * the private `/tmp` is remounted read-only after the binds, leaving
 * `writableDir` the only writable host dir.
 *
 * @module
 */

/** Host dirs always masked: `/tmp` (private scratch) and `/run` (host sockets). */
const SYSTEM_MASKS = ["/tmp", "/run"] as const;
/** Where systemd-resolved keeps `resolv.conf`; bound back when `net` is granted. */
const RESOLVER_DIR = "/run/systemd/resolve";

type Layer = "system" | "workspace" | "view" | "ro" | "rw" | "hidden";

/** At one path, later layers are mounted on top of earlier ones. */
const RANK: Readonly<Record<Layer, number>> = {
  system: 0,
  workspace: 0,
  view: 0,
  ro: 1,
  rw: 2,
  hidden: 3,
};

interface Mount {
  readonly layer: Layer;
  readonly path: string;
  /** The source of a `view` bind. */
  readonly source?: string;
}

/** Input of {@linkcode planSandboxMounts}; every path absolute and normalised. */
export interface SandboxMountInput {
  /** Roots the server may read (granted reads and writes, the capsule dir). */
  readonly readRoots: readonly string[];
  /** The only writable host dir, if any (a private `/tmp` is always there). */
  readonly writableDir?: string;
  /** The workspace, masked unless a read root covers it or `workspaceView` is set. */
  readonly workspace: string;
  /**
   * A dir bound read-write over the workspace path (the merged overlayfs view
   * of a spawned process); mounted after `/tmp`, so a workspace under `/tmp`
   * stays visible.
   */
  readonly workspaceView?: string;
  /** Dirs that stay empty but for the revealable roots inside them. */
  readonly hiddenDirs: readonly string[];
  /** Roots whose granted parts may be bound back inside a hidden dir. */
  readonly revealable: readonly string[];
  /** Whether the network is shared (binds the resolver dir back). */
  readonly net: boolean;
}

function depth(p: string): number {
  return p === "/" ? 0 : p.split("/").length - 1;
}

function within(p: string, root: string): boolean {
  return root === "/" || p === root || p.startsWith(`${root}/`);
}

function order(a: Mount, b: Mount): number {
  return depth(a.path) - depth(b.path) || RANK[a.layer] - RANK[b.layer] ||
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** The mount that decides what `p` shows: the deepest one covering it. */
function topCover(p: string, mounts: readonly Mount[]): Mount | undefined {
  let top: Mount | undefined;
  for (const m of mounts) {
    if (within(p, m.path) && (top === undefined || order(top, m) < 0)) {
      top = m;
    }
  }
  return top;
}

/** Whether `r`, under the deepest hidden dir holding it, lies in a revealable root. */
function revealable(r: string, input: SandboxMountInput): boolean {
  let hidden: string | undefined;
  for (const h of input.hiddenDirs) {
    if (r !== h && within(r, h) && (!hidden || depth(h) > depth(hidden))) {
      hidden = h;
    }
  }
  if (hidden === undefined) return true;
  const inside = hidden;
  return input.revealable.some((p) => within(r, p) && within(p, inside));
}

/**
 * Plans the mount arguments of `bwrap`: `--ro-bind / /`, `--dev /dev`,
 * `--proc /proc`, tmpfs masks over `/tmp`, `/run`, the workspace (unless a
 * read root covers it) and the hidden dirs, `--ro-bind-try` for read roots a
 * mask covers (inside a hidden dir: only those in a revealable root),
 * `--bind` for `writableDir` and `workspaceView` (over the workspace), then
 * `--remount-ro` of the masks but `/tmp`.
 *
 * @param input Read roots, the writable dir, the workspace and hidden dirs.
 * @returns The `bwrap` arguments, in mount order.
 * @throws {TypeError} When `writableDir`, the workspace (with a view) or a
 *   hidden dir is `/`, or a hidden dir is `writableDir`.
 *
 * @example A granted dir inside a hidden dir is bound back read-only
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSandboxMounts } from "./_mounts.ts";
 * const args = planSandboxMounts({
 *   readRoots: ["/home/a/.astrid/capsules/x"],
 *   writableDir: "/scratch/x",
 *   workspace: "/ws",
 *   hiddenDirs: ["/home/a/.astrid"],
 *   revealable: ["/home/a/.astrid/capsules/x"],
 *   net: false,
 * });
 * const i = args.indexOf("/home/a/.astrid");
 * assert.equal(args[i - 1], "--tmpfs");
 * assert.ok(args.lastIndexOf("/home/a/.astrid/capsules/x") > i);
 * ```
 */
export function planSandboxMounts(input: SandboxMountInput): string[] {
  const { writableDir, workspace, workspaceView } = input;
  if (writableDir === "/") {
    throw new TypeError("writableDir must not be the root directory");
  }
  if (workspaceView !== undefined && workspace === "/") {
    throw new TypeError("Cannot bind a workspace view over the root directory");
  }
  for (const h of input.hiddenDirs) {
    if (h === "/" || h === writableDir) {
      throw new TypeError(`Cannot hide '${h}': it is '/' or the writableDir`);
    }
  }
  const mounts: Mount[] = SYSTEM_MASKS.map((p) => ({
    layer: "system",
    path: p,
  }));
  if (workspaceView !== undefined) {
    mounts.push({ layer: "view", path: workspace, source: workspaceView });
  } else if (
    workspace !== "/" && !input.readRoots.some((r) => within(workspace, r))
  ) {
    mounts.push({ layer: "workspace", path: workspace });
  }
  for (const h of new Set(input.hiddenDirs)) {
    mounts.push({ layer: "hidden", path: h });
  }
  const masks = mounts.filter((m) => m.layer !== "view");
  if (writableDir !== undefined) {
    mounts.push({ layer: "rw", path: writableDir });
  }
  const reads = [...new Set(input.readRoots)];
  if (input.net) reads.push(RESOLVER_DIR);
  reads.sort((a, b) => depth(a) - depth(b));
  for (const r of reads) {
    const top = topCover(r, mounts);
    if (
      top === undefined || top.layer === "ro" || top.layer === "rw" ||
      top.layer === "view"
    ) {
      continue; // silent-ok: the read-only root (or a bind above) shows it
    }
    if (top.layer === "hidden" && top.path === r) continue; // silent-ok: hidden wins
    if (!revealable(r, input)) continue; // silent-ok: stays hidden
    mounts.push({ layer: "ro", path: r });
  }
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];
  for (const m of mounts.sort(order)) {
    if (m.layer === "ro") args.push("--ro-bind-try", m.path, m.path);
    else if (m.layer === "rw") args.push("--bind", m.path, m.path);
    else if (m.layer === "view") args.push("--bind", m.source!, m.path);
    else args.push("--tmpfs", m.path);
  }
  for (const m of masks.sort(order)) {
    if (m.path !== "/tmp" && m.path !== writableDir) {
      args.push("--remount-ro", m.path);
    }
  }
  return args;
}
