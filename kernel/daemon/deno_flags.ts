/**
 * The sixth layer: the Deno permission flags the daemon runs under,
 * computed from the configuration and the installed capsules, each value
 * with the reason it is there (`astrid doctor` shows them).
 *
 * - read/write: `ASTRID_HOME` (state, keys, capsules, the Unix sockets in
 *   `run/`) and the workspace roots (`workspace.roots` plus the caller's);
 *   read only: Deno's cache (npm packages such as the QuickJS wasm) and the
 *   system config file.
 * - net: the union of the INSTALLED capsules' `net` grants (names, their
 *   subdomains and current addresses — see `net_flag_entries.ts`), the
 *   provider host of `model.api_url`, the DNS servers `Deno.resolveDns`
 *   asks, and the kernel's Unix sockets by exact path (`run/system.sock` and
 *   the fixed slots of `core/socket_slots.ts`: Deno has no directory form). Workspace capsules are admitted per session by the operator and are
 *   not in the flags: their net grants fail with `NotCapable` until the host
 *   is also granted by an installed capsule or the config.
 * - env: a named list (`HOME`, `ASTRID_*`, the tooling list of
 *   `kernel/host/deno_toolchain.ts`, the variables the config references).
 * - run: `deno` (capsule builds, MCP servers), `bwrap` (sandboxes), `unshare`
 *   (process overlays) and the commands that run outside a sandbox by the
 *   operator's choice.
 * - never `--allow-ffi`, `--allow-all`, `--allow-sys` or remote imports.
 *
 * Security model: every value is checked by {@linkcode FlagList}: a comma or
 * control character is refused with `CONFIG_INVALID` (roots, paths) or the
 * capsule's value is left out with a note (a hostile manifest cannot stop
 * the daemon or add a flag). A relative root, `/` or a root with `..` is
 * refused. Install records are verified with the runtime key before their
 * grants count; an unverified capsule would not load, so it adds nothing.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { DEFAULT_PRINCIPAL, type PrincipalId } from "../core/ids.ts";
import type { Env, FileSystem, Logger } from "../core/ports.ts";
import { findBubblewrap } from "../capsule/sandbox/find_bwrap.ts";
import {
  astridHomePaths,
  createDenoFs,
  createDenoSpawner,
  denoToolchain,
  systemClock,
  TOOL_ENV_NAMES,
} from "../host/mod.ts";
import { cachedBubblewrap } from "./bwrap_probe_cache.ts";
import { resolveHostAddresses } from "../host/deno_dns.ts";
import {
  PLUGIN_WORKER_URL,
  WORKER_PERMISSIONS,
} from "../capsule/engines/wasm/_worker_pool.ts";
import { socketSlotPaths } from "../core/socket_slots.ts";
import { readKernelConfig, SYSTEM_CONFIG_PATH } from "./home_config.ts";
import { allowFlag, type FlagEntry, FlagList } from "./deno_flag_list.ts";
import { netValues, parseNetGrant } from "./net_flag_entries.ts";
import {
  capsuleFlagGrants,
  installedCapsules,
  type SkippedCapsule,
} from "./capsule_flag_grants.ts";

export type { FlagEntry } from "./deno_flag_list.ts";

/** What {@linkcode daemonFlags} computes from. */
export interface DaemonFlagsInput {
  /** `ASTRID_HOME` of the daemon (absolute). */
  readonly homeRoot: string;
  /** More workspace roots (absolute), besides `workspace.roots` of the config. */
  readonly roots: readonly string[];
  /** The daemon's environment (the one it will be started with). */
  readonly env: Readonly<Record<string, string>>;
  /** The principal whose installed capsules count; default `default`. */
  readonly principal?: PrincipalId;
  /** Skip `/etc/astrid/config.toml` (tests, throwaway homes). */
  readonly ignoreSystemConfig?: boolean;
  /**
   * `bwrap` path, or `null` for none; default: probed ({@linkcode findBubblewrap}),
   * a positive answer remembered in `var/` (`bwrap_probe_cache.ts`).
   */
  readonly bubblewrap?: string | null;
  /** DNS servers `Deno.resolveDns` asks; default: `nameserver` lines of `/etc/resolv.conf`. */
  readonly nameservers?: readonly string[];
  /** Resolves a host name; default: the host's DNS. */
  readonly resolve?: (host: string) => Promise<readonly string[]>;
  /** Logger for refused capsules; default: errors on stderr. */
  readonly logger?: Logger;
}

export type { SkippedCapsule } from "./capsule_flag_grants.ts";

/** The daemon's Deno flags and why each value is there. */
export interface DaemonFlags {
  /** The exact `deno run` flags (before the module). */
  readonly args: string[];
  readonly read: readonly FlagEntry[];
  readonly write: readonly FlagEntry[];
  /** `null`: every host (an installed capsule grants net `*`). */
  readonly net: readonly FlagEntry[] | null;
  readonly env: readonly FlagEntry[];
  readonly run: readonly FlagEntry[];
  readonly sys: readonly FlagEntry[];
  /**
   * This checkout's `deno.json` (unstable `kv`/`worker-options`, npm
   * imports, lock), or `null` when the kernel does not run from local files.
   * Not in `args`: pass `--config <it>` when the daemon starts outside the
   * checkout (a globally installed CLI); Deno reads it before permissions apply.
   */
  readonly config: string | null;
  /** The workspace roots in force (config and input). */
  readonly roots: readonly string[];
  /** Installed capsules left out (unverified record, unsafe value). */
  readonly skipped: readonly SkippedCapsule[];
  /** What the flags do not cover and why. */
  readonly notes: readonly string[];
}

const DENO_JSON = new URL("../../deno.json", import.meta.url);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class RecordingEnv implements Env {
  readonly names = new Set<string>();
  constructor(readonly vars: Readonly<Record<string, string>>) {}
  get(name: string): string | undefined {
    this.names.add(name);
    return Object.hasOwn(this.vars, name) ? this.vars[name] : undefined;
  }
}

/**
 * Checks a root: absolute, normalised, not `/`.
 *
 * @throws {KernelError} `CONFIG_INVALID` otherwise.
 */
function checkRoot(root: string, source: string): string {
  const bad = !path.isAbsolute(root)
    ? "it is not absolute"
    : root.split("/").includes("..")
    ? "it contains '..'"
    : path.resolve(root) === "/"
    ? "it is the whole file system"
    : null;
  if (bad !== null) {
    throw new KernelError(
      "CONFIG_INVALID",
      `Cannot use the workspace root ${
        JSON.stringify(root)
      } from ${source} as ${bad}; give an absolute directory`,
      { data: { source } },
    );
  }
  return path.resolve(root);
}

/**
 * The path and, when it differs, its real path (a symlinked root) — the real
 * one checked like the root itself, so a symlink to `/` grants nothing.
 */
async function spellings(
  fs: FileSystem,
  p: string,
  source: string,
): Promise<string[]> {
  const real = await fs.realPath(p).catch(() => p);
  return real === p ? [p] : [p, checkRoot(real, `${source} (its real path)`)];
}

async function readNameservers(fs: FileSystem): Promise<string[]> {
  const bytes = await fs.readFile("/etc/resolv.conf").catch(() => null);
  if (bytes === null) return [];
  return new TextDecoder().decode(bytes).split("\n").flatMap((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // An address only (a zone id such as `%eth0` is not a Deno host).
    return m && /^(?:[\d.]+|[0-9a-f:.]+)$/i.test(m[1]!) ? [m[1]!] : [];
  });
}

/**
 * The `bwrap` that works on this host (see `findBubblewrap`), or `null`.
 *
 * @returns Its path, or `null` when none runs a sandbox here.
 */
export async function usableBubblewrap(): Promise<string | null> {
  return await findBubblewrap(createDenoSpawner());
}

/**
 * Computes the daemon's Deno flags.
 *
 * @param input Home, extra roots, environment (and test seams).
 * @returns The flags and their reasons.
 * @throws {KernelError} `CONFIG_INVALID` for a relative root, `/`, or a root
 *   or path with a comma or control character; `CONFIG_*` when the config
 *   does not load; `HOME_INVALID` for a bad home.
 *
 * @example Compute and launch
 * ```ts ignore
 * const flags = await daemonFlags({ homeRoot, roots: [], env });
 * new Deno.Command(Deno.execPath(), { args: ["run", ...flags.args, "kernel/main.ts"] });
 * ```
 */
export async function daemonFlags(
  input: DaemonFlagsInput,
): Promise<DaemonFlags> {
  const fs = createDenoFs();
  const home = astridHomePaths(input.homeRoot);
  const env = new RecordingEnv({ ...input.env, ASTRID_HOME: home.root });
  const principal = input.principal ?? DEFAULT_PRINCIPAL;
  // Probing bubblewrap spawns it: meanwhile the config and manifests are read.
  const bwrapProbe = input.bubblewrap !== undefined
    ? Promise.resolve(input.bubblewrap)
    : cachedBubblewrap({
      fs,
      clock: systemClock(),
      varDir: home.var,
      probe: usableBubblewrap,
    });
  bwrapProbe.catch(() => {/* silent-ok: awaited below */});
  const config = await readKernelConfig({
    env,
    principal,
    ...(input.ignoreSystemConfig ? { ignoreSystemConfig: true } : {}),
  });
  const read = new FlagList();
  const write = new FlagList();
  const net = new FlagList();
  const envs = new FlagList();
  const run = new FlagList();
  const notes: string[] = [];
  const skipped: SkippedCapsule[] = [];

  // Files.
  for (const p of await spellings(fs, home.root, "ASTRID_HOME")) {
    const why =
      "ASTRID_HOME: state store, keys, capsules, audit, the Unix sockets of run/";
    read.add(p, why, "ASTRID_HOME");
    write.add(p, why, "ASTRID_HOME");
  }
  const roots = [
    ...config.get("workspace.roots").map((r) =>
      checkRoot(r, "workspace.roots")
    ),
    ...input.roots.map((r) => checkRoot(r, "the daemon's roots")),
  ];
  for (const root of roots) {
    for (const p of await spellings(fs, root, "workspace.roots")) {
      const why = "a workspace root (the session's files and overlay commits)";
      read.add(p, why, "workspace.roots");
      write.add(p, why, "workspace.roots");
    }
  }
  const user = input.env["HOME"];
  for (const root of roots) {
    if (user !== undefined && (user + "/").startsWith(root + "/")) {
      notes.push(
        `the root ${root} holds your home directory ${user}: the daemon may read and write all of it (~/.ssh, other projects); prefer the project directories`,
      );
    }
  }
  if (!input.ignoreSystemConfig) {
    read.add(SYSTEM_CONFIG_PATH, "the system config layer", "the config");
  }
  const toolchain = denoToolchain({ get: (n) => env.vars[n] });
  if (toolchain.denoDir !== undefined) {
    read.add(
      path.join(toolchain.denoDir, "npm"),
      "Deno's npm cache, read only: npm packages read their own files at run time (the QuickJS wasm of the js engine); Deno itself and the deno child processes write the cache",
      "DENO_DIR",
    );
  }
  const replay = env.vars["ASTRID_REPLAY_FILE"];
  if (replay !== undefined && replay !== "") {
    if (!path.isAbsolute(replay)) {
      throw new KernelError(
        "CONFIG_INVALID",
        "ASTRID_REPLAY_FILE must be an absolute path for the daemon (the CLI resolves it against its directory)",
      );
    }
    read.add(
      replay,
      "the replay provider's transcript (ASTRID_REPLAY_FILE), read only",
      "ASTRID_REPLAY_FILE",
    );
  }
  if (PLUGIN_WORKER_URL.protocol === "file:") {
    read.add(
      path.resolve(decodeURIComponent(PLUGIN_WORKER_URL.pathname)),
      "the wasm engine's Worker module: starting a Worker from a local file needs read access to it (only this file)",
      "the kernel's source",
    );
  }

  // Environment.
  for (const name of ["HOME", "ASTRID_*", ...TOOL_ENV_NAMES]) {
    envs.add(
      name,
      name === "ASTRID_*"
        ? "the kernel's own settings (home, provider, env config layer)"
        : name === "HOME"
        ? "locating the home and Deno's cache"
        : "passed to the kernel's tool runs (deno bundle, deno cache)",
      "the kernel",
    );
  }
  envs.add(
    "ANTHROPIC_*",
    "a workspace config may reference ASTRID_* and ANTHROPIC_* variables",
    "the kernel",
  );
  for (const name of WORKER_PERMISSIONS.env) {
    envs.add(
      name,
      "the wasm engine's Worker holds it (Extism reads it) and a Worker cannot hold what its parent lacks",
      "the wasm engine",
    );
  }
  for (const name of env.names) {
    if (!ENV_NAME.test(name) || name.startsWith("ASTRID_") || envs.has(name)) {
      continue;
    }
    envs.add(name, "referenced by the config (${VAR})", "the config");
  }

  // Processes.
  run.add(
    toolchain.denoPath,
    "deno: capsule builds (deno bundle), MCP servers (deno run/cache/info) — each child gets its own flags",
    "the kernel",
  );
  const bwrap = await bwrapProbe;
  if (bwrap !== null) {
    run.add(
      bwrap,
      "bubblewrap: the sandbox of spawned processes and non-Deno MCP servers",
      "the kernel",
    );
    read.add(
      bwrap,
      "bubblewrap's binary, read only (this one file): its size and mtime key the remembered probe (var/bwrap-probe.json)",
      "the kernel",
    );
  } else {
    notes.push(
      "bubblewrap is not usable: non-Deno MCP servers of confined capsules and process_spawn cannot run",
    );
  }

  // Installed capsules.
  const capsules = await installedCapsules({
    homeRoot: home.root,
    env: input.env,
    principal,
    ...(input.logger ? { logger: input.logger } : {}),
  });
  skipped.push(...capsules.skipped);
  const resolve = input.resolve ?? resolveHostAddresses;
  const grants = await capsuleFlagGrants(capsules.dirs, {
    resolve,
    unsandboxed: bwrap === null &&
      config.get("security.allow_unsandboxed_spawn"),
  });
  for (const e of grants.read) read.add(e.value, e.reason, "a capsule");
  for (const e of grants.net) net.add(e.value, e.reason, "a capsule");
  for (const e of grants.run) run.add(e.value, e.reason, "a capsule");
  skipped.push(...grants.skipped);
  notes.push(...grants.notes);
  const anyNet = grants.anyNet;
  let named = grants.named;

  // Provider host.
  const apiUrl = config.get("model.api_url");
  if (apiUrl !== "") {
    let url: URL | undefined;
    try {
      url = new URL(apiUrl);
    } catch {
      notes.push("model.api_url is not a URL: no provider host is granted");
    }
    if (url !== undefined) {
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const port = url.port !== ""
        ? url.port
        : url.protocol === "http:"
        ? "80"
        : "443";
      const grant = parseNetGrant(
        host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
      );
      if (grant.kind !== "any") {
        named ||= grant.kind === "name";
        const why = "the provider host of model.api_url";
        for (const v of await netValues(grant, why, resolve, false)) {
          net.add(v.value, v.reason, "model.api_url");
        }
      }
    }
  }
  // The shared store (a cluster node) and the shared overlay root.
  const storeUrl = config.get("store.url");
  if (storeUrl !== "") {
    const entry = storeNetEntry(storeUrl);
    if (entry.kind === "unix") {
      net.add(
        `unix:${entry.socket}`,
        "the PostgreSQL server of store.url (its Unix socket)",
        "store.url",
      );
      // Node's net.connect on a Unix socket also asks for read and write.
      const why = "the Unix socket of store.url's PostgreSQL server";
      read.add(entry.socket, why, "store.url");
      write.add(entry.socket, why, "store.url");
    } else if (entry.kind === "tcp") {
      const grant = parseNetGrant(entry.hostPort);
      if (grant.kind !== "any") {
        named ||= grant.kind === "name";
        const why = "the PostgreSQL server of store.url";
        for (const v of await netValues(grant, why, resolve, false)) {
          net.add(v.value, v.reason, "store.url");
        }
      }
    } else {
      notes.push(
        "store.url is not a postgres:// URL: no store host is granted",
      );
    }
    envs.add(
      "PG*",
      "the PostgreSQL client of store.url reads its PG* defaults (PGSSL, PGHOST, …)",
      "store.url",
    );
  }
  const overlayRoot = config.get("cluster.overlay_root");
  if (overlayRoot !== "") {
    const root = checkRoot(overlayRoot, "cluster.overlay_root");
    for (const p of await spellings(fs, root, "cluster.overlay_root")) {
      const why =
        "cluster.overlay_root: the session overlays shared by the cluster's nodes";
      read.add(p, why, "cluster.overlay_root");
      write.add(p, why, "cluster.overlay_root");
    }
  }
  if (named && !anyNet) {
    const servers = input.nameservers ?? await readNameservers(fs);
    for (const ns of servers) {
      net.add(
        ns.includes(":") ? `[${ns}]:53` : `${ns}:53`,
        "a DNS server: the runtime's resolveDns (the SSRF check of capsule HTTP) asks it",
        "/etc/resolv.conf",
      );
    }
  }
  // The kernel's own Unix sockets: Deno allows them by exact path only.
  net.add(
    `unix:${home.systemSock}`,
    "the daemon API socket (run/system.sock)",
    "the kernel",
  );
  for (const kind of ["fetch", "mcp"] as const) {
    for (const p of socketSlotPaths(home.run, kind)) {
      net.add(
        `unix:${p}`,
        kind === "fetch"
          ? "a slot of the one-shot proxy of a pinned capsule HTTP request (Deno allows Unix sockets by exact path)"
          : "a slot of the permission broker of a Deno MCP server (Deno allows Unix sockets by exact path)",
        "the kernel",
      );
    }
  }
  notes.push(
    "workspace capsules are approved per session and are not in the flags: a host only they grant is refused (NotCapable) until an installed capsule or the config grants it",
  );

  const r = read.entries();
  const w = write.entries();
  const n = anyNet ? null : net.entries();
  const e = envs.entries();
  const x = run.entries();
  const args = [
    "--no-prompt",
    "--deny-import",
    ...allowFlag("read", r),
    ...allowFlag("write", w),
    ...(n === null ? ["--allow-net"] : allowFlag("net", n)),
    ...allowFlag("env", e),
    ...allowFlag("run", x),
  ];
  return {
    args,
    read: r,
    write: w,
    net: n,
    env: e,
    run: x,
    sys: [],
    config: DENO_JSON.protocol === "file:"
      ? path.resolve(decodeURIComponent(DENO_JSON.pathname))
      : null,
    roots,
    skipped,
    notes,
  };
}

/**
 * Where the PostgreSQL client of `store.url` connects: a Unix socket
 * (`?host=/dir` → `/dir/.s.PGSQL.<port>`) or `host:port` (default 5432).
 *
 * @param url `store.url`.
 * @returns The entry, or `none` for something else.
 */
export function storeNetEntry(
  url: string,
):
  | { kind: "unix"; socket: string }
  | { kind: "tcp"; hostPort: string }
  | { kind: "none" } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { kind: "none" };
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    return { kind: "none" };
  }
  const port = u.port === "" ? "5432" : u.port;
  const dir = u.searchParams.get("host");
  if (dir !== null && dir.startsWith("/")) {
    return {
      kind: "unix",
      socket: `${dir.replace(/\/+$/, "")}/.s.PGSQL.${port}`,
    };
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "") return { kind: "none" };
  return {
    kind: "tcp",
    hostPort: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
  };
}
