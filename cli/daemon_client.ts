/**
 * The CLI's way to the daemon: a headless server when `--url`/`ASTRID_URL`
 * names one, else the home's socket, starting an ephemeral daemon when none
 * answers.
 *
 * @module
 */
import { join, resolve } from "../kernel/api/client_kit.ts";
import {
  ApiClient,
  astridHomePaths,
  daemonEnv,
  KernelError,
  parseReady,
  resolveAstridHome,
  runFiles,
} from "../kernel/api/client_kit.ts";
import type { ReadyInfo, RunFiles } from "../kernel/api/client_kit.ts";
import type { GlobalFlags } from "./flags.ts";

/** How long a running daemon may take to answer `status`. */
export const STATUS_TIMEOUT_MS = 10_000;

/**
 * How long the CLI waits for a daemon it started to serve. Generous: a daemon
 * that fails exits and is reported at once; a loaded machine only starts it
 * slowly (a daemon normally serves in well under a second).
 */
export const DAEMON_START_TIMEOUT_MS = 30_000;

/** How often a starting CLI looks for the daemon's ready sentinel. */
const READY_POLL_MS = 10;

/** The daemon's entry point: a path when local, else its URL. */
export function daemonEntry(): string {
  const url = new URL("../kernel/main.ts", import.meta.url);
  return url.protocol === "file:" ? decodeURIComponent(url.pathname) : url.href;
}

/** The environment the client works from (the process's, or a test's). */
export type ClientEnv = Readonly<Record<string, string>>;

/**
 * The home's runtime files and the daemon log.
 *
 * @param env The environment (`ASTRID_HOME`, `HOME`).
 * @returns The paths.
 */
export function homeFiles(
  env: ClientEnv = Deno.env.toObject(),
): { files: RunFiles; root: string; log: string } {
  const home = astridHomePaths(resolveAstridHome({ get: (name) => env[name] }));
  return {
    files: runFiles(home),
    root: home.root,
    log: join(home.log, "daemon.log"),
  };
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Checks a headless server's URL: `https:`, or `http:` on loopback only (a
 * bearer token must not cross a network in clear).
 *
 * @param url The URL.
 * @returns The URL.
 * @throws {KernelError} `INVALID_INPUT`.
 */
export function checkServerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KernelError("INVALID_INPUT", `'${url}' is not a URL`);
  }
  if (
    parsed.protocol !== "https:" &&
    !(parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname))
  ) {
    throw new KernelError(
      "INVALID_INPUT",
      `Use https:// for a server that is not on this machine (the token would travel in clear): ${parsed.origin}`,
    );
  }
  return url;
}

function remoteClient(flags: GlobalFlags, env: ClientEnv): ApiClient | null {
  const given = flags.url ?? env["ASTRID_URL"];
  if (given === undefined || given === "") return null;
  const url = checkServerUrl(given);
  const token = env["ASTRID_TOKEN"];
  if (token === undefined || token === "") {
    throw new KernelError(
      "API_UNAUTHORIZED",
      "Set ASTRID_TOKEN to the server's token to use --url/ASTRID_URL",
    );
  }
  return new ApiClient({ baseUrl: url }, token);
}

async function readText(file: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(file);
  } catch {
    return null;
  }
}

/**
 * Connects to the home's daemon when one serves (its token works and it
 * answers `status`); never starts one.
 *
 * @param files The home's runtime files.
 * @returns A client, or `null` when no daemon answers.
 * @throws {KernelError} Any error but `DAEMON_UNAVAILABLE` from the status call.
 */
export async function connectRunning(
  files: RunFiles,
): Promise<ApiClient | null> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = (await readText(files.token))?.trim();
    if (!token) return null;
    const client = new ApiClient({ socket: files.socket }, token);
    try {
      await client.call("status", {
        signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
      });
      return client;
    } catch (err) {
      client.close();
      if (KernelError.is(err) && err.code === "DAEMON_UNAVAILABLE") return null;
      if (KernelError.is(err) && err.code === "ABORTED") {
        throw new KernelError(
          "DAEMON_UNAVAILABLE",
          `The daemon of this home accepts connections but does not answer within ${
            STATUS_TIMEOUT_MS / 1000
          }s (its pid is in ${files.ready})`,
        );
      }
      // A daemon restarting between our read of the token and the call.
      if (
        KernelError.is(err) && err.code === "API_UNAUTHORIZED" && attempt === 0
      ) {
        continue;
      }
      throw err;
    }
  }
  return null;
}

/**
 * The ready sentinel of the home's daemon, or `null`.
 *
 * @param files The home's runtime files.
 * @returns The sentinel's content.
 */
export async function readReady(files: RunFiles): Promise<ReadyInfo | null> {
  const text = await readText(files.ready);
  return text === null ? null : parseReady(text);
}

/**
 * The last lines of the daemon log, for error messages.
 *
 * @param log The log file.
 * @param lines How many.
 * @returns The lines (empty when there is no log).
 */
export async function logTail(log: string, lines = 5): Promise<string[]> {
  const text = await readText(log);
  if (text === null) return [];
  return text.trimEnd().split("\n").slice(-lines);
}

/** Options of {@linkcode spawnDaemon}. */
export interface SpawnOptions {
  /** The workspace root the daemon serves. */
  readonly workspace: string;
  /** Exit when idle (auto-start). */
  readonly ephemeral: boolean;
  /** `true`: stdio inherited and waited for (`astrid start --foreground`). */
  readonly attached?: boolean;
  /** The caller's environment (default: the process's); the daemon gets only its named part. */
  readonly env?: ClientEnv;
}

/**
 * Starts a daemon process for the home with the flags of `daemonFlags`
 * and only the named environment of `daemonEnv`.
 *
 * @param options Workspace, ephemeral, attached.
 * @returns The child process.
 */
export async function spawnDaemon(
  options: SpawnOptions,
): Promise<Deno.ChildProcess> {
  const from = options.env ?? Deno.env.toObject();
  const { root, log } = homeFiles(from);
  const env = daemonEnv(from, Deno.cwd());
  // The flag computation reads config and manifests: loaded only to start a daemon.
  const { daemonFlags } = await import("../kernel/daemon/client_flags.ts");
  const { args, config } = await daemonFlags({
    homeRoot: root,
    roots: [options.workspace],
    env,
  });
  const argv = [
    "run",
    // Deno reads the config (import map, unstable features) before any
    // permission applies; the daemon starts in "/", so it is named here.
    ...(config === null ? [] : ["--config", config]),
    ...args,
    daemonEntry(),
    ...(options.ephemeral ? ["--ephemeral"] : []),
    "--root",
    options.workspace,
    ...(options.attached ? [] : ["--log", log]),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: argv,
    env,
    clearEnv: true,
    cwd: "/",
    stdin: "null",
    stdout: options.attached ? "inherit" : "null",
    stderr: options.attached ? "inherit" : "null",
    ...(options.attached ? {} : { detached: true }),
  }).spawn();
  if (!options.attached) child.unref();
  return child;
}

/**
 * Starts a daemon and waits until the home's daemon serves — ours, or one a
 * concurrent CLI started first — at most {@linkcode DAEMON_START_TIMEOUT_MS}.
 * When ours lost the race to a daemon that was just stopping (its lock is
 * gone and nothing serves), it is started again.
 *
 * @param options What to start (workspace, ephemeral).
 * @param env The caller's environment (default: the process's).
 * @returns A client.
 * @throws {KernelError} `DAEMON_UNAVAILABLE` with the log's last lines.
 */
export async function startAndWait(
  options: Omit<SpawnOptions, "attached" | "env">,
  env: ClientEnv = Deno.env.toObject(),
): Promise<ApiClient> {
  const { files, log } = homeFiles(env);
  let exited: Deno.CommandStatus | undefined;
  const spawn = async () => {
    exited = undefined;
    const child = await spawnDaemon({ ...options, env });
    child.status.then((s) => (exited = s), () => {});
  };
  await spawn();
  let respawns = 0;
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await readReady(files)) {
      const client = await connectRunning(files);
      if (client) return client;
    }
    if (exited && exited.code !== 0) {
      const tail = await logTail(log);
      if (!tail.some((l) => l.includes("DAEMON_RUNNING"))) break;
      // Another daemon held the lock. Still starting: wait for it. Gone
      // (an idle daemon that was stopping): start ours again.
      const lockGone = await Deno.lstat(files.lock).then(
        () => false,
        () => true,
      );
      if (lockGone && respawns < 3) {
        respawns++;
        await spawn();
      }
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  const tail = await logTail(log);
  throw new KernelError(
    "DAEMON_UNAVAILABLE",
    `The daemon did not start${
      exited ? ` (exit code ${exited.code})` : " in time"
    }; see ${log}${tail.length ? `:\n  ${tail.join("\n  ")}` : ""}`,
  );
}

/**
 * Connects to the daemon of `ASTRID_HOME`, auto-starting an ephemeral one
 * (serving the workspace) when none answers; or, with `--url`/`ASTRID_URL`,
 * to that headless server with `ASTRID_TOKEN` (never auto-started).
 *
 * @param flags Global flags (`--url`, `--workspace`).
 * @returns A client with the daemon's token.
 * @throws {KernelError} `DAEMON_UNAVAILABLE` when no daemon can be started.
 */
export function connectDaemon(flags: GlobalFlags): Promise<ApiClient> {
  return connectDaemonWith(flags, Deno.env.toObject());
}

/**
 * {@linkcode connectDaemon} from a given environment (tests use a temp home
 * without touching the process's environment).
 *
 * @param flags Global flags.
 * @param env The environment (`ASTRID_HOME`, `ASTRID_URL`, `ASTRID_TOKEN`, ...).
 * @returns A client.
 */
export async function connectDaemonWith(
  flags: GlobalFlags,
  env: ClientEnv,
): Promise<ApiClient> {
  const remote = remoteClient(flags, env);
  if (remote) return remote;
  const { files } = homeFiles(env);
  const running = await connectRunning(files);
  if (running) return running;
  const workspace = resolve(Deno.cwd(), flags.workspace ?? ".");
  return await startAndWait({ workspace, ephemeral: true }, env);
}

/**
 * Connects to a running daemon (or the `--url` server) without starting one.
 *
 * @param flags Global flags.
 * @param env The environment (default: the process's).
 * @returns A client, or `null` when none runs.
 */
export async function findDaemon(
  flags: GlobalFlags,
  env: ClientEnv = Deno.env.toObject(),
): Promise<ApiClient | null> {
  return remoteClient(flags, env) ?? await connectRunning(homeFiles(env).files);
}

/**
 * Waits until the home's daemon is gone (socket and lock removed).
 *
 * @param files The home's runtime files.
 * @param timeoutMs The limit.
 * @returns `true` when it is gone in time.
 */
export async function waitGone(
  files: RunFiles,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const gone = (p: string) => Deno.lstat(p).then(() => false, () => true);
  while (Date.now() < deadline) {
    // The socket goes last but for the lock; once both are gone a new
    // daemon can start at once.
    if (await gone(files.socket) && await gone(files.lock)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Stops the home's daemon gracefully (`POST /v1/shutdown`) and waits until
 * it is gone (socket and lock removed).
 *
 * @param env The caller's environment (default: the process's).
 * @returns `none` when no daemon answered, else `stopped`.
 * @throws {KernelError} `DAEMON_UNAVAILABLE` when it is still there after 10 s.
 */
export async function stopDaemon(
  env: ClientEnv = Deno.env.toObject(),
): Promise<"none" | "stopped"> {
  const { files } = homeFiles(env);
  const client = await connectRunning(files);
  if (client === null) return "none";
  try {
    await client.call("shutdown");
  } finally {
    client.close();
  }
  if (!(await waitGone(files))) {
    throw new KernelError(
      "DAEMON_UNAVAILABLE",
      `The daemon was asked to stop, but its socket ${files.socket} is still there after 10s`,
    );
  }
  return "stopped";
}

/**
 * Restarts the home's daemon so that it starts with freshly computed Deno
 * flags (after a capsule was installed, updated or removed): it is stopped
 * gracefully; an ephemeral one is left stopped (the next command starts it
 * with the new flags), a persistent one (`astrid start`) is started again
 * with the roots it had.
 *
 * @param env The caller's environment (default: the process's).
 * @returns What happened.
 * @throws {KernelError} `DAEMON_UNAVAILABLE` when it does not stop or start.
 */
export async function restartDaemon(
  env: ClientEnv = Deno.env.toObject(),
): Promise<"none" | "stopped" | "restarted"> {
  const { files } = homeFiles(env);
  const ready = await readReady(files);
  if ((await stopDaemon(env)) === "none") return "none";
  if (ready === null || ready.ephemeral) return "stopped";
  const workspace = ready.roots[0] ?? Deno.cwd();
  (await startAndWait({ workspace, ephemeral: false }, env)).close();
  return "restarted";
}
