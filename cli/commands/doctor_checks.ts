/**
 * The checks of `astrid doctor`: each one looks, never repairs, and names
 * the fix of what it finds. No check starts a daemon or creates a key; the
 * store and the audit chains are opened only when no daemon holds them.
 *
 * @module
 */
import * as path from "node:path";
import semver from "semver";
import {
  type DaemonFlags,
  daemonFlags,
  KernelError,
  type KernelPaths,
  kernelPaths,
  readRuntimeKey,
  startKernel,
  usableBubblewrap,
} from "../../mod.ts";
import { warnLogger } from "../output.ts";

/** The Deno this project is built and tested with (`.ci/run`). */
export const REQUIRED_DENO = "2.9.6";

/** The outcome of one check. */
export interface CheckResult {
  /** What was checked (`deno`, `home`, `runtime key`, …). */
  readonly name: string;
  /** `fail` makes `astrid doctor` exit 1; `warn` does not. */
  readonly status: "ok" | "warn" | "fail";
  /** What was found. */
  readonly detail: string;
  /** How to fix it (for `warn` and `fail`). */
  readonly fix?: string;
}

/** Everything `astrid doctor` found. */
export interface DoctorReport {
  /** `ASTRID_HOME`. */
  readonly home: string;
  readonly checks: readonly CheckResult[];
  /** The daemon's effective Deno flags, or `null` when they cannot be computed. */
  readonly flags: DaemonFlags | null;
  /** `true` when no check failed. */
  readonly ok: boolean;
}

function message(err: unknown): string {
  return KernelError.is(err)
    ? `${err.code}: ${err.message}`
    : err instanceof Error
    ? err.message
    : String(err);
}

async function lstat(p: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(p);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

function octal(mode: number | null): string {
  return (mode ?? 0).toString(8).padStart(4, "0").slice(-4);
}

function checkDeno(): CheckResult {
  const have = Deno.version.deno;
  const ok = semver.gte(semver.coerce(have) ?? "0.0.0", REQUIRED_DENO);
  return ok
    ? { name: "deno", status: "ok", detail: `${have} (≥ ${REQUIRED_DENO})` }
    : {
      name: "deno",
      status: "fail",
      detail: `${have} is older than ${REQUIRED_DENO}`,
      fix: `deno upgrade --version ${REQUIRED_DENO}`,
    };
}

/** Directories of the layout that must be private (0700). */
function privateDirs(paths: KernelPaths): string[] {
  const h = paths.home;
  return [h.root, h.etc, h.var, h.run, h.log, h.keys, h.homes];
}

async function checkHome(paths: KernelPaths): Promise<CheckResult[]> {
  const root = paths.home.root;
  const info = await lstat(root);
  if (info === null) {
    return [{
      name: "home",
      status: "warn",
      detail: `${root} does not exist yet`,
      fix: "astrid init (or any command that boots the kernel creates it)",
    }];
  }
  if (info.isSymlink || !info.isDirectory) {
    return [{
      name: "home",
      status: "fail",
      detail: `${root} is not a directory (a symlink is refused)`,
      fix: `point ASTRID_HOME at a real directory`,
    }];
  }
  const open: string[] = [];
  for (const dir of privateDirs(paths)) {
    const s = await lstat(dir);
    if (s !== null && s.isDirectory && ((s.mode ?? 0) & 0o077) !== 0) {
      open.push(`${dir} (${octal(s.mode)})`);
    }
  }
  if (open.length > 0) {
    return [{
      name: "home",
      status: "fail",
      detail: `readable by others: ${open.join(", ")}`,
      fix: `chmod 700 ${open.map((o) => o.split(" (")[0]).join(" ")}`,
    }];
  }
  return [{ name: "home", status: "ok", detail: `${root} (0700)` }];
}

async function checkKey(paths: KernelPaths): Promise<CheckResult> {
  const file = paths.home.runtimeKey;
  const s = await lstat(file);
  if (s === null) {
    return {
      name: "runtime key",
      status: "warn",
      detail: `${file} does not exist yet`,
      fix: "astrid keys generate (the first boot also creates it)",
    };
  }
  if (((s.mode ?? 0) & 0o077) !== 0) {
    return {
      name: "runtime key",
      status: "fail",
      detail: `${file} is mode ${octal(s.mode)}: others can read the key`,
      fix: `chmod 600 ${file}`,
    };
  }
  try {
    const key = await readRuntimeKey();
    return {
      name: "runtime key",
      status: "ok",
      detail: `${file} (0600, key id ${key.keyId})`,
    };
  } catch (err) {
    return {
      name: "runtime key",
      status: "fail",
      detail: message(err),
      fix:
        "restore the key from a backup, or astrid keys generate --force (then reinstall the capsules)",
    };
  }
}

async function checkBubblewrap(): Promise<CheckResult> {
  const bwrap = await usableBubblewrap();
  return bwrap !== null
    ? { name: "bubblewrap", status: "ok", detail: `${bwrap} runs a sandbox` }
    : {
      name: "bubblewrap",
      status: "fail",
      detail:
        "no usable bwrap: spawned processes and non-Deno MCP servers cannot be confined",
      fix:
        "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=0 where AppArmor restricts them)",
    };
}

/** The daemon's files and whether something answers on the socket. */
async function checkDaemon(
  paths: KernelPaths,
): Promise<{ result: CheckResult[]; running: boolean }> {
  const h = paths.home;
  const files = [h.systemSock, h.systemToken, h.systemReady];
  const present = [];
  for (const f of files) {
    const s = await lstat(f);
    if (s !== null) present.push({ file: f, mode: s.mode });
  }
  if (present.length === 0) {
    return {
      result: [{
        name: "daemon",
        status: "ok",
        detail: "not running (the CLI starts it when needed)",
      }],
      running: false,
    };
  }
  let answers = false;
  if (present.some((p) => p.file === h.systemSock)) {
    try {
      const conn = await Deno.connect({
        transport: "unix",
        path: h.systemSock,
      });
      conn.close();
      answers = true;
    } catch {
      // silent-ok: nothing listens — reported as stale below.
    }
  }
  if (!answers) {
    return {
      result: [{
        name: "daemon",
        status: "fail",
        detail: `stale files, no daemon answers: ${
          present.map((p) => path.basename(p.file)).join(", ")
        }`,
        fix: `rm -f ${present.map((p) => p.file).join(" ")}`,
      }],
      running: false,
    };
  }
  const open = present.filter((p) => ((p.mode ?? 0) & 0o077) !== 0);
  const result: CheckResult[] = [{
    name: "daemon",
    status: "ok",
    detail: `running (${h.systemSock})`,
  }];
  if (open.length > 0) {
    result.push({
      name: "daemon files",
      status: "fail",
      detail: `readable by others: ${
        open.map((p) => `${p.file} (${octal(p.mode)})`).join(", ")
      }`,
      fix: `chmod 600 ${open.map((p) => p.file).join(" ")}`,
    });
  }
  return { result, running: true };
}

/** Opens the store and verifies every principal's audit chain. */
async function checkStore(
  paths: KernelPaths,
  running: boolean,
  keyOk: boolean,
): Promise<CheckResult[]> {
  if (running) {
    return [{
      name: "store",
      status: "ok",
      detail:
        "held by the running daemon (not opened; astrid audit verify asks the daemon)",
    }];
  }
  if (!keyOk) {
    return [{
      name: "store",
      status: "warn",
      detail: "not opened: the runtime key needs attention first",
      fix: "fix the runtime key, then run astrid doctor again",
    }];
  }
  if (await lstat(paths.home.stateKv) === null) {
    return [{ name: "store", status: "ok", detail: "not created yet" }];
  }
  let kernel;
  try {
    kernel = await startKernel({ logger: warnLogger });
  } catch (err) {
    return [{
      name: "store",
      status: "fail",
      detail: message(err),
      fix: KernelError.is(err) && err.code.startsWith("CONFIG_")
        ? "astrid config validate shows the problem"
        : "check that no other process holds the store and that the disk is writable",
    }];
  }
  try {
    const out: CheckResult[] = [{
      name: "store",
      status: "ok",
      detail: `${paths.home.stateKv} opens`,
    }];
    const audit = kernel.security.audit;
    for (const principal of await audit.principals()) {
      const v = await audit.verify(principal);
      out.push(
        v.valid
          ? {
            name: `audit ${principal}`,
            status: "ok",
            detail: `${v.entriesVerified} entries verify`,
          }
          : {
            name: `audit ${principal}`,
            status: "fail",
            detail: `the chain breaks at seq ${v.firstBad?.seq} (entry ${
              v.firstBad?.id ?? "missing"
            }): ${v.firstBad?.code} — ${v.firstBad?.reason}`,
            fix:
              "the audit log was altered or truncated: keep this home for investigation and restore var/state.kv from a backup",
          },
      );
    }
    return out;
  } finally {
    await kernel.close();
  }
}

async function checkFlags(
  paths: KernelPaths,
): Promise<{ result: CheckResult; flags: DaemonFlags | null }> {
  try {
    const flags = await daemonFlags({
      homeRoot: paths.home.root,
      roots: [],
      env: Deno.env.toObject(),
    });
    const skipped = flags.skipped.length;
    return {
      flags,
      result: skipped === 0
        ? { name: "flags", status: "ok", detail: "computed (listed below)" }
        : {
          name: "flags",
          status: "warn",
          detail: `${skipped} installed capsule(s) left out: ${
            flags.skipped.map((s) => `${s.capsule} (${s.reason})`).join("; ")
          }`,
          fix: "reinstall or remove them (astrid capsule install|remove)",
        },
    };
  } catch (err) {
    return {
      flags: null,
      result: {
        name: "flags",
        status: "fail",
        detail: message(err),
        fix:
          "fix workspace.roots in $ASTRID_HOME/etc/config.toml (absolute directories without commas)",
      },
    };
  }
}

/**
 * Runs every check against the home of the current environment.
 *
 * @returns The report.
 * @throws {KernelError} `HOME_INVALID` when ASTRID_HOME/HOME is unusable.
 */
export async function runDoctor(): Promise<DoctorReport> {
  const paths = kernelPaths();
  const checks: CheckResult[] = [checkDeno()];
  checks.push(...await checkHome(paths));
  const key = await checkKey(paths);
  checks.push(key);
  checks.push(await checkBubblewrap());
  const daemon = await checkDaemon(paths);
  checks.push(...daemon.result);
  checks.push(
    ...await checkStore(paths, daemon.running, key.status === "ok"),
  );
  const flags = await checkFlags(paths);
  checks.push(flags.result);
  return {
    home: paths.home.root,
    checks,
    flags: flags.flags,
    ok: checks.every((c) => c.status !== "fail"),
  };
}
