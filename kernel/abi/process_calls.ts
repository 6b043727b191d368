/**
 * `process_spawn`: gated as `capsule_process_spawn` (manifest `host_process`,
 * argv-aware policy, approval per mode), then run with a scrubbed environment —
 * inside bubblewrap when available: read-only root, private /tmp, no network,
 * every namespace unshared, killed with the kernel. Without bubblewrap the
 * process runs unconfined but still gated, scrubbed and time-limited, and a
 * warning is logged.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { Params } from "./_params.ts";
import type { CallerIdentity } from "./ports.ts";
import type { HostCall } from "./host_call.ts";

const MAX_OUTPUT = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The command line actually executed, with bubblewrap around it when available.
 *
 * @param cmd The program.
 * @param args Its arguments.
 * @param call The call (workspace, bwrap path).
 * @returns Program and arguments to spawn.
 */
export function confinedCommand(
  cmd: string,
  args: readonly string[],
  call: { caller: CallerIdentity; bubblewrap: string | null },
): {
  command: string;
  args: string[];
} {
  const bwrap = call.bubblewrap;
  if (!bwrap) return { command: cmd, args: [...args] };
  return {
    command: bwrap,
    args: [
      "--ro-bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--proc",
      "/proc",
      "--tmpfs",
      "/tmp",
      "--unshare-all",
      // As root, bwrap keeps every capability unless told otherwise.
      "--cap-drop",
      "ALL",
      "--die-with-parent",
      "--new-session",
      "--chdir",
      call.caller.workspace,
      "--",
      cmd,
      ...args,
    ],
  };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(
    bytes.length > MAX_OUTPUT ? bytes.subarray(0, MAX_OUTPUT) : bytes,
  );
}

/** `process_spawn`. */
export const processSpawn: HostCall = async (payload, call) => {
  const p = new Params("process_spawn", payload);
  const cmd = p.string("cmd", 4096);
  const args = p.optStrings("args") ?? [];
  const stdin = p.optString("stdin");
  const timeoutMs = p.optInt("timeout_ms", 600_000) ?? DEFAULT_TIMEOUT_MS;
  if (cmd === "") {
    throw new KernelError(
      "INVALID_INPUT",
      "process_spawn: 'cmd' must not be empty",
    );
  }
  const request = { kind: "spawn", command: cmd, args } as const;
  return await call.gated(request, async (granted) => {
    if (!granted.bubblewrap) {
      granted.warn(
        "bubblewrap not available; process runs unconfined (gated and scrubbed)",
        { cmd },
      );
    }
    const line = confinedCommand(cmd, args, {
      caller: call.caller,
      bubblewrap: granted.bubblewrap,
    });
    const out = await granted.output(line.command, {
      args: line.args,
      cwd: call.caller.workspace,
      env: {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        LANG: "C.UTF-8",
        HOME: "/tmp",
      },
      signal: AbortSignal.any([call.signal, AbortSignal.timeout(timeoutMs)]),
      ...(stdin === undefined ? {} : { input: stdin }),
    });
    return {
      exit_code: out.code,
      stdout: text(out.stdout),
      stderr: text(out.stderr),
    };
  });
};
