/**
 * Runs one process the way `process_spawn` must: inside bubblewrap, seeing
 * the session's overlay view of the workspace, its writes caught in a
 * per-spawn overlayfs upper dir that the caller imports into the session
 * overlay afterwards (see {@linkcode importUpperChanges}).
 *
 * Security model: the process runs in {@linkcode bwrapArgs}'s sandbox —
 * every namespace unshared (a fresh `/proc` shows no kernel process), no
 * capabilities, the host root read-only, `/tmp` private, `/run` and every
 * hidden dir (`ASTRID_HOME`) empty — with the merged overlayfs view bound
 * over the workspace path (after the `/tmp` mask, so a workspace under `/tmp`
 * works). Its environment is {@linkcode spawnEnv}: nothing from the kernel's.
 * The per-spawn dirs live under `scratchRoot` (inside `ASTRID_HOME`, hidden
 * from the process) and are removed by `dispose()`.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { FileSystem, ProcessOutput, Spawner } from "../../core/ports.ts";
import { bwrapArgs } from "./bwrap_args.ts";
import { OVERLAY_MOUNT_FAILED, overlayLine } from "./overlay_line.ts";
import { spawnEnv } from "./sandbox_env.ts";
import { readUpperChanges, type UpperChange } from "./upper_changes.ts";
import { buildViewLayer, type OverlaySource } from "./view_layer.ts";

/** What a confined spawn needs from the host. */
export interface SpawnSandbox {
  /** The working `bwrap`, or `null` when no sandbox is available. */
  readonly bwrap: string | null;
  /** `unshare` (util-linux), for the overlayfs mount. */
  readonly unshare: string;
  /** Dirs shown empty to the process (`ASTRID_HOME`). */
  readonly hiddenDirs: readonly string[];
  /** Where per-spawn dirs are made (one file system; hidden from the process). */
  readonly scratchRoot: string;
}

/** One process to run. */
export interface SpawnRequest {
  /** A unique id (the call id): names the per-spawn dir. */
  readonly id: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  /** Canonical workspace root; also the process's cwd. */
  readonly workspace: string;
  /** The session overlay the process sees. */
  readonly overlay: OverlaySource;
  /** Kills the process (timeout, cancelled call). */
  readonly signal: AbortSignal;
}

/** A finished spawn: its output and what it changed. */
export interface SpawnResult extends AsyncDisposable {
  readonly output: ProcessOutput;
  /** The changes in the upper dir, parents first. */
  readonly changes: readonly UpperChange[];
  /** The bytes of a `file` change. */
  read(path: string): Promise<Uint8Array>;
  /** Removes the per-spawn dirs. */
  dispose(): Promise<void>;
}

const EOVERFLOW_TEXT = "Value too large for defined data type";

/**
 * Runs a process in the sandbox over the session's overlay view.
 *
 * @param deps Host file system, spawner and sandbox paths.
 * @param request The process and its session.
 * @returns Output and changes; call `dispose()` when imported.
 * @throws {KernelError} `SANDBOX_UNAVAILABLE` when `bwrap` is `null`, the
 *   `unshare` tool cannot start or the overlay cannot be mounted;
 *   `HOST_PERMISSION_DENIED`
 *   when the process could not modify a workspace file owned by a user the
 *   sandbox cannot map (EOVERFLOW); `INVALID_INPUT` for a workspace path
 *   overlayfs cannot name; `ABORTED`.
 */
export async function runInSandbox(
  deps: {
    readonly fs: FileSystem;
    readonly spawner: Spawner;
    readonly sandbox: SpawnSandbox;
  },
  request: SpawnRequest,
): Promise<SpawnResult> {
  const { fs, spawner, sandbox } = deps;
  if (sandbox.bwrap === null) {
    throw new KernelError(
      "SANDBOX_UNAVAILABLE",
      `Cannot run '${request.command}' as no sandbox is available (bubblewrap with user namespaces); install bubblewrap, or set security.allow_unsandboxed_spawn = true to run processes unconfined`,
      { data: { command: request.command } },
    );
  }
  const root = `${sandbox.scratchRoot}/${request.id}`;
  const dirs = {
    view: `${root}/view`,
    upper: `${root}/upper`,
    work: `${root}/work`,
    merged: `${root}/merged`,
  };
  const dispose = async () => {
    try {
      await fs.remove(root, { recursive: true });
    } catch (err) {
      if (!KernelError.is(err, "NOT_FOUND")) throw err;
    }
  };
  try {
    for (const d of Object.values(dirs)) {
      await fs.mkdir(d, { recursive: true, mode: 0o700 });
    }
    const hasView = await buildViewLayer({ fs, spawner }, {
      overlay: request.overlay,
      workspace: request.workspace,
      dir: dirs.view,
    });
    const inner = bwrapArgs({
      command: request.command,
      args: request.args,
      chdir: request.workspace,
      workspace: request.workspace,
      workspaceView: dirs.merged,
      hiddenDirs: sandbox.hiddenDirs,
    });
    const line = overlayLine(sandbox.unshare, {
      lower: hasView ? [dirs.view, request.workspace] : [request.workspace],
      upper: dirs.upper,
      work: dirs.work,
      merged: dirs.merged,
    }, { command: sandbox.bwrap, args: inner });
    let output: ProcessOutput;
    try {
      output = await spawner.output(line.command, {
        args: line.args,
        cwd: "/",
        env: spawnEnv(),
        signal: request.signal,
        ...(request.stdin === undefined ? {} : { input: request.stdin }),
      });
    } catch (err) {
      if (!KernelError.is(err) || err.code === "ABORTED") throw err;
      throw new KernelError(
        "SANDBOX_UNAVAILABLE",
        `Cannot run '${request.command}' as '${sandbox.unshare}' (util-linux) cannot be started: ${err.message}`,
        { cause: err },
      );
    }
    const stderr = new TextDecoder().decode(output.stderr);
    if (output.code === OVERLAY_MOUNT_FAILED && stderr.includes("mount")) {
      throw new KernelError(
        "SANDBOX_UNAVAILABLE",
        `Cannot run '${request.command}' as the session overlay cannot be mounted here (overlayfs in an unprivileged user namespace): ${
          stderr.slice(0, 500)
        }`,
      );
    }
    const changes = await readUpperChanges(fs, dirs.upper);
    if (stderr.includes(EOVERFLOW_TEXT)) {
      throw new KernelError(
        "HOST_PERMISSION_DENIED",
        `Process '${request.command}' could not modify a workspace file owned by another user: the sandbox maps only the kernel's own user, so such files cannot be copied into the session overlay (EOVERFLOW); none of its changes were kept`,
        { data: { command: request.command, exit_code: output.code } },
      );
    }
    return {
      output,
      changes,
      read: (path) => fs.readFile(`${dirs.upper}/${path}`),
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
