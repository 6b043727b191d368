/**
 * `process_spawn`: gated as `capsule_process_spawn` (manifest `host_process`,
 * argv-aware policy, approval per mode), then run by `kernel/capsule/sandbox`:
 * inside bubblewrap (every namespace unshared, no capabilities, read-only
 * root, private `/tmp`, `ASTRID_HOME` hidden, no network, no kernel process
 * visible), with an environment built from nothing, seeing the session's
 * overlay view of the workspace. Its writes land in a per-spawn overlayfs
 * upper dir and are imported into the session overlay afterwards, each as
 * its own gated, audited file action — refused ones are reported, never
 * applied. Without a sandbox the call is refused (`SANDBOX_UNAVAILABLE`)
 * unless `security.allow_unsandboxed_spawn` is set: then the gate decides an
 * action marked `sandbox: "none"` (so the exception is in the audit chain)
 * and the process runs unconfined in the real workspace.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Action } from "../security/action.ts";
import type { JsonValue } from "../store/store.ts";
import { runInSandbox } from "../capsule/sandbox/spawn_sandbox.ts";
import { importUpperChanges } from "../capsule/sandbox/import_changes.ts";
import { spawnEnv } from "../capsule/sandbox/sandbox_env.ts";
import { Params } from "./_params.ts";
import { gatedOverlaySink } from "./_process_sink.ts";
import type { HostCall } from "./host_call.ts";

const MAX_OUTPUT = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;

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
  const process = call.deps.process;
  const unsandboxed = process.sandbox.bwrap === null &&
    process.allowUnsandboxed;
  const action: Action = {
    type: "capsule_process_spawn",
    capsule_id: call.caller.capsule,
    command: cmd,
    args,
    ...(unsandboxed ? { sandbox: "none" as const } : {}),
  };
  const signal = AbortSignal.any([
    call.signal,
    AbortSignal.timeout(timeoutMs),
  ]);
  if (unsandboxed) {
    return await call.gated(action, async () => {
      call.deps.logger.log(
        "warn",
        "no sandbox available; process runs UNCONFINED in the workspace (security.allow_unsandboxed_spawn)",
        { capsule: call.caller.capsule, cmd },
      );
      const out = await call.deps.spawner.output(cmd, {
        args,
        cwd: call.caller.workspace,
        env: spawnEnv(),
        signal,
        ...(stdin === undefined ? {} : { input: stdin }),
      });
      return {
        exit_code: out.code,
        stdout: text(out.stdout),
        stderr: text(out.stderr),
        sandbox: "none",
      };
    }, "process_spawn");
  }
  const run = await call.gated(action, async () =>
    await runInSandbox({
      fs: process.hostFs,
      spawner: call.deps.spawner,
      sandbox: process.sandbox,
    }, {
      id: call.callId,
      command: cmd,
      args,
      ...(stdin === undefined ? {} : { stdin }),
      workspace: call.caller.workspace,
      overlay: await process.overlay(call.caller),
      signal,
    }), "process_spawn");
  try {
    const overlay = await importUpperChanges(
      run.changes,
      (p) => run.read(p),
      gatedOverlaySink(call),
    );
    return {
      exit_code: run.output.code,
      stdout: text(run.output.stdout),
      stderr: text(run.output.stderr),
      sandbox: "bubblewrap",
      overlay: { ...overlay } as unknown as JsonValue,
    };
  } finally {
    await run.dispose();
  }
};
