/**
 * Shared helpers of the daemon tests: a throwaway home, a real daemon
 * subprocess (`kernel/main.ts`) started on it with the daemon's Deno flags,
 * waiting for it, stopping or killing it. Every helper cleans up after
 * itself: disposing the home kills whatever daemon still serves it.
 *
 * @module
 */
import * as path from "node:path";
import { startKernel } from "../kernel/daemon/boot.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { installAgentCapsules } from "./agent_fixture_test.ts";
import { ApiClient, daemonFlags, runFiles } from "../mod.ts";
import type { RunFiles } from "../mod.ts";
import { astridHomePaths } from "../kernel/host/astrid_home.ts";
import { DENO_DIR } from "./cli_fixture_test.ts";

const ROOT = path.resolve(import.meta.dirname ?? ".", "..");
/** The daemon's entry point. */
export const KERNEL_MAIN: string = path.join(ROOT, "kernel/main.ts");
/** The headless server's entry point. */
export const SERVE_MAIN: string = path.join(ROOT, "kernel/serve.ts");
/** The repository's `deno.json`. */
export const DENO_JSON: string = path.join(ROOT, "deno.json");

/** A throwaway `ASTRID_HOME` with a workspace beside it. */
export interface TempHome extends AsyncDisposable {
  /** The temp dir holding everything (also `HOME`). */
  readonly dir: string;
  /** `ASTRID_HOME`. */
  readonly home: string;
  /** A workspace directory (a daemon root). */
  readonly workspace: string;
  /** The environment of a user of this home. */
  readonly env: Record<string, string>;
  /** The daemon's runtime files. */
  readonly files: RunFiles;
  /** `log/daemon.log`. */
  readonly log: string;
}

/**
 * Creates a throwaway home.
 *
 * @param config Text of `etc/config.toml`, when given.
 * @returns The home; `await using` kills its daemon and removes it.
 */
export async function tempHome(config?: string): Promise<TempHome> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid-daemon-" }),
  );
  const home = path.join(dir, "home");
  const workspace = path.join(dir, "ws");
  await Deno.mkdir(workspace);
  if (config !== undefined) {
    await Deno.mkdir(path.join(home, "etc"), { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(path.join(home, "etc", "config.toml"), config);
  }
  const files = runFiles(astridHomePaths(home));
  return {
    dir,
    home,
    workspace,
    files,
    log: path.join(home, "log", "daemon.log"),
    env: {
      HOME: dir,
      ASTRID_HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      DENO_DIR,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
    },
    async [Symbol.asyncDispose]() {
      await killHomeDaemon(files);
      // Daemons still booting (losers of an auto-start race) would take the
      // home over once its daemon is gone: end every process of this home.
      await killProcessesMentioning(dir);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Whether a path exists (not following symlinks).
 *
 * @param p The path.
 * @returns `true` when it exists.
 */
export async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The permission bits of a path.
 *
 * @param p The path.
 * @returns `mode & 0o777`.
 */
export async function modeOf(p: string): Promise<number> {
  return (await Deno.lstat(p)).mode! & 0o777;
}

/**
 * Polls until a condition holds.
 *
 * @param cond The condition.
 * @param what What is awaited (for the error).
 * @param timeoutMs The limit.
 */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The pid in the ready sentinel, or `null`.
 *
 * @param files The runtime files.
 * @returns The pid.
 */
export async function readyPid(files: RunFiles): Promise<number | null> {
  try {
    const v = JSON.parse(await Deno.readTextFile(files.ready));
    return typeof v.pid === "number" ? v.pid : null;
  } catch {
    return null;
  }
}

/**
 * Whether a process runs (not a zombie). Asks `ps`: reading `/proc` needs
 * `--allow-all` in Deno, which the test task does not grant.
 *
 * @param pid The process.
 * @returns `true` while it runs.
 */
export async function alive(pid: number): Promise<boolean> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const state = new TextDecoder().decode(out.stdout).trim();
  return out.success && state !== "" && !state.startsWith("Z");
}

/**
 * The command line of a process (arguments joined by spaces), or `null`.
 *
 * @param pid The process.
 * @returns Its arguments.
 */
export async function commandLine(pid: number): Promise<string | null> {
  const out = await new Deno.Command("ps", {
    args: ["-ww", "-o", "args=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  return out.success && text !== "" ? text : null;
}

/**
 * Kills (SIGKILL) the daemon named by the home's ready sentinel and waits
 * for it to be gone; for daemons the test did not spawn itself.
 *
 * @param files The runtime files.
 */
export async function killHomeDaemon(files: RunFiles): Promise<void> {
  const pid = await readyPid(files);
  if (pid === null || !(await alive(pid))) return;
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  await waitUntil(async () => !(await alive(pid)), `pid ${pid} to die`, 20_000)
    .catch(
      () => {},
    );
}

/**
 * SIGKILLs every process whose command line mentions `needle` (a temp
 * dir of this test), and waits for them to be gone (`ps`).
 *
 * @param needle A unique path.
 */
export async function killProcessesMentioning(needle: string): Promise<void> {
  const out = await new Deno.Command("ps", {
    args: ["-ww", "-eo", "pid=,args="],
    stdout: "piped",
    stderr: "null",
  }).output();
  const pids: number[] = [];
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || Number(m[1]) === Deno.pid) continue;
    if (m[2]!.includes(needle)) pids.push(Number(m[1]));
  }
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // silent-ok: already gone
    }
  }
  await waitUntil(
    async () => (await Promise.all(pids.map(alive))).every((a) => !a),
    "processes to die",
    5000,
  ).catch(() => {});
}

/**
 * A client of the home's daemon with the token now in `run/system.token`.
 *
 * @param h The home.
 * @returns The client (close it).
 */
export async function clientOf(h: TempHome): Promise<ApiClient> {
  const token = (await Deno.readTextFile(h.files.token)).trim();
  return new ApiClient({ socket: h.files.socket }, token);
}

/** A daemon subprocess. */
export interface DaemonProcess {
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** Its pid. */
  readonly pid: number;
  /** Resolves when it exits, with its exit status and stderr. */
  readonly exit: Promise<
    { code: number; signal: string | null; stderr: string }
  >;
  /** Sends a signal and waits for the exit. */
  stop(
    signal?: Deno.Signal,
  ): Promise<{ code: number; signal: string | null; stderr: string }>;
}

/**
 * Spawns `kernel/main.ts` on the home, with the daemon's Deno flags and the
 * home's environment only.
 *
 * @param h The home.
 * @param options `ephemeral`; `wait` (default `true`): until it serves.
 * @returns The process.
 */
export async function spawnDaemonProcess(
  h: TempHome,
  options: { ephemeral?: boolean; wait?: boolean; flags?: string[] } = {},
): Promise<DaemonProcess> {
  const { args, config } = options.flags
    ? { args: options.flags, config: null }
    : await daemonFlags({
      homeRoot: h.home,
      roots: [h.workspace],
      env: h.env,
    });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(config === null ? [] : ["--config", config]),
      ...args,
      KERNEL_MAIN,
      "--root",
      h.workspace,
      ...(options.ephemeral ? ["--ephemeral"] : []),
    ],
    env: h.env,
    clearEnv: true,
    cwd: h.dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const exit = child.status.then(async (s) => ({
    code: s.code,
    signal: s.signal,
    stderr: await stderr,
  }));
  let exited = false;
  exit.then(() => (exited = true));
  const proc: DaemonProcess = {
    child,
    pid: child.pid,
    exit,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // silent-ok: already gone
        }
      }
      return await exit;
    },
  };
  if (options.wait !== false) {
    await waitUntil(async () => {
      if (exited) {
        throw new Error(`the daemon exited early: ${(await exit).stderr}`);
      }
      return (await readyPid(h.files)) === child.pid;
    }, "the daemon to be ready");
  }
  return proc;
}

/**
 * Installs capsules into the home with signed records, as `astrid init`
 * would (names under `capsules/` or absolute fixture directories).
 *
 * @param h The home.
 * @param capsules The capsules.
 */
export async function installCapsules(
  h: TempHome,
  capsules: readonly string[],
): Promise<void> {
  const kernel = await startKernel({
    env: new MemoryEnv(h.env),
    ignoreSystemConfig: true,
    logger: new MemoryLogger(),
  });
  try {
    await installAgentCapsules(kernel, capsules);
  } finally {
    await kernel.close();
  }
}

/**
 * A free loopback TCP port (bound and released at once).
 *
 * @returns The port.
 */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts the headless server (`deno serve kernel/serve.ts`) of a temp home
 * on a loopback port, with a clean environment: the home's, plus `env`.
 *
 * @param h The home.
 * @param port The port.
 * @param env More environment (the server's token, cluster settings).
 * @param options Deno's permission flags (default `-A`); where stdout goes.
 * @returns The process (stderr piped).
 */
export function spawnServe(
  h: TempHome,
  port: number,
  env: Record<string, string>,
  options: { perms?: readonly string[]; stdout?: "piped" | "null" } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "serve",
      "--config",
      DENO_JSON,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...(options.perms ?? ["-A"]),
      SERVE_MAIN,
    ],
    env: { ...h.env, ...env },
    clearEnv: true,
    cwd: h.dir,
    stdin: "null",
    stdout: options.stdout ?? "piped",
    stderr: "piped",
  }).spawn();
}
