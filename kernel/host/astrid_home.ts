/**
 * Where Astrid keeps its files: resolving `ASTRID_HOME` and naming every path
 * of the layout (reference §9.3). Pure path logic, no host access.
 *
 * Paths are POSIX: `ASTRID_HOME` must start with `/`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { parsePrincipalId, type PrincipalId } from "../core/ids.ts";
import type { Env } from "../core/ports.ts";

/** The paths of one principal's home, `home/<principal>/`. */
export interface PrincipalHome {
  /** `home/<principal>`. */
  readonly root: string;
  /** `.local`. */
  readonly local: string;
  /** `.local/capsules`: installed capsules, one directory each. */
  readonly capsules: string;
  /** `.local/kv`. */
  readonly kv: string;
  /** `.local/log`: capsule logs. */
  readonly log: string;
  /** `.local/audit`. */
  readonly audit: string;
  /** `.local/tokens`: capability tokens. */
  readonly tokens: string;
  /** `.local/tmp`. */
  readonly tmp: string;
  /** `.config`. */
  readonly config: string;
  /** `.config/env`: per-capsule `<capsule>.env.json`. */
  readonly env: string;
  /** `.config/distro.lock` (a file). */
  readonly distroLock: string;
  /** `wit`: WIT files fetched by `astrid init`. */
  readonly wit: string;
}

/** Every path of an Astrid home. Directories first, then named files. */
export interface AstridHome {
  /** The resolved, normalised root (`ASTRID_HOME`). */
  readonly root: string;
  /** `etc`: configuration. */
  readonly etc: string;
  /** `var`: persistent state. */
  readonly var: string;
  /** `run`: runtime files of the daemon; always `0700`. */
  readonly run: string;
  /** `log`: daemon and CLI logs. */
  readonly log: string;
  /** `keys`: secret keys. */
  readonly keys: string;
  /** `bin`: binaries and content-addressed capsules. */
  readonly bin: string;
  /** `lib`. */
  readonly lib: string;
  /** `wit`: shared WIT files. */
  readonly wit: string;
  /** `home`: the parent of every principal home. */
  readonly homes: string;
  /** `etc/config.toml`. */
  readonly configToml: string;
  /** `etc/layout-version`. */
  readonly layoutVersion: string;
  /** `var/state.kv`: the Deno KV database. */
  readonly stateKv: string;
  /** `keys/runtime.key`: the runtime's ed25519 secret key. */
  readonly runtimeKey: string;
  /** `keys/store.password`: the PostgreSQL store's password (when not in the env). */
  readonly storePassword: string;
  /** `run/system.sock`: the daemon API socket. */
  readonly systemSock: string;
  /** `run/system.token`: the bearer token of the socket. */
  readonly systemToken: string;
  /** `run/system.ready`: written once the daemon serves. */
  readonly systemReady: string;
  /**
   * The paths of a principal's home.
   *
   * @param principal The principal; its grammar is checked again here.
   * @returns The principal's paths.
   * @throws {KernelError} `INVALID_ID` when `principal` is not a valid principal id.
   */
  home(principal: PrincipalId): PrincipalHome;
}

/**
 * Finds the Astrid root: `ASTRID_HOME` when set and non-empty, else
 * `$HOME/.astrid`. The result is absolute and normalised (no trailing, double
 * or `.` segments).
 *
 * @param env Where to read `ASTRID_HOME` and `HOME`.
 * @returns The root directory.
 * @throws {KernelError} `HOME_INVALID` when the chosen variable is relative,
 * contains a `..` segment or a NUL byte, when `ASTRID_HOME` is `/`, or when
 * neither variable is set.
 *
 * @example Default and override
 * ```ts
 * import { resolveAstridHome } from "./astrid_home.ts";
 * import { MemoryEnv } from "../testing/memory_env.ts";
 * console.assert(resolveAstridHome(new MemoryEnv({ HOME: "/home/ada" })) === "/home/ada/.astrid");
 * console.assert(resolveAstridHome(new MemoryEnv({ ASTRID_HOME: "/srv/astrid/" })) === "/srv/astrid");
 * ```
 */
export function resolveAstridHome(env: Env): string {
  const astridHome = env.get("ASTRID_HOME");
  if (astridHome !== undefined && astridHome !== "") {
    return checkRoot(astridHome, "ASTRID_HOME");
  }
  const home = env.get("HOME");
  if (home === undefined || home === "") {
    throw new KernelError(
      "HOME_INVALID",
      "Cannot locate the Astrid home as neither ASTRID_HOME nor HOME is set",
      {
        data: { variable: "HOME" },
      },
    );
  }
  const base = normalise(home, "HOME");
  return base === "/" ? "/.astrid" : `${base}/.astrid`;
}

/**
 * Names every path under an Astrid root.
 *
 * @param root An absolute root, e.g. from {@linkcode resolveAstridHome}.
 * @returns The frozen {@linkcode AstridHome}.
 * @throws {KernelError} `HOME_INVALID` when `root` is relative, `/`, or has a `..` segment or NUL.
 *
 * @example Where the daemon socket lives
 * ```ts
 * import { astridHomePaths } from "./astrid_home.ts";
 * import { parsePrincipalId } from "../core/ids.ts";
 * const home = astridHomePaths("/srv/astrid");
 * console.assert(home.systemSock === "/srv/astrid/run/system.sock");
 * console.assert(home.home(parsePrincipalId("ada")).kv === "/srv/astrid/home/ada/.local/kv");
 * ```
 */
export function astridHomePaths(root: string): AstridHome {
  const r = checkRoot(root, "ASTRID_HOME");
  const etc = `${r}/etc`;
  const run = `${r}/run`;
  const homes = `${r}/home`;
  return Object.freeze({
    root: r,
    etc,
    var: `${r}/var`,
    run,
    log: `${r}/log`,
    keys: `${r}/keys`,
    bin: `${r}/bin`,
    lib: `${r}/lib`,
    wit: `${r}/wit`,
    homes,
    configToml: `${etc}/config.toml`,
    layoutVersion: `${etc}/layout-version`,
    stateKv: `${r}/var/state.kv`,
    runtimeKey: `${r}/keys/runtime.key`,
    storePassword: `${r}/keys/store.password`,
    systemSock: `${run}/system.sock`,
    systemToken: `${run}/system.token`,
    systemReady: `${run}/system.ready`,
    home(principal: PrincipalId): PrincipalHome {
      return principalHome(`${homes}/${parsePrincipalId(principal)}`);
    },
  });
}

function principalHome(root: string): PrincipalHome {
  const local = `${root}/.local`;
  const config = `${root}/.config`;
  return Object.freeze({
    root,
    local,
    capsules: `${local}/capsules`,
    kv: `${local}/kv`,
    log: `${local}/log`,
    audit: `${local}/audit`,
    tokens: `${local}/tokens`,
    tmp: `${local}/tmp`,
    config,
    env: `${config}/env`,
    distroLock: `${config}/distro.lock`,
    wit: `${root}/wit`,
  });
}

function checkRoot(value: string, variable: string): string {
  const root = normalise(value, variable);
  if (root === "/") {
    throw new KernelError(
      "HOME_INVALID",
      `Cannot use ${variable}=${show(value)} as it is the file-system root`,
      {
        data: { variable },
      },
    );
  }
  return root;
}

/** Checks absoluteness, NUL and `..`; drops empty and `.` segments. */
function normalise(value: string, variable: string): string {
  const fail = (why: string): never => {
    throw new KernelError(
      "HOME_INVALID",
      `Cannot use ${variable}=${show(value)} as ${why}`,
      { data: { variable } },
    );
  };
  if (value.includes("\0")) fail("it contains a NUL byte");
  if (!value.startsWith("/")) fail("it is not an absolute path");
  const segments = value.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) fail("it contains a '..' segment");
  return `/${segments.join("/")}`;
}

function show(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}
