/**
 * `process_spawn`: the argv is decided by the gate (`capsule_process_spawn`),
 * then runs — always in the sandbox (`kernel/capsule/sandbox`) over the
 * session's overlay view of the workspace, `ASTRID_HOME` and the kernel's
 * processes invisible, an environment built from nothing. What the process
 * writes or deletes is imported into the session overlay afterwards, each
 * change its own gated, audited file decision. Without a sandbox the spawn is
 * refused (`SANDBOX_UNAVAILABLE`) unless `security.allow_unsandboxed_spawn`,
 * and then the decision itself records `sandbox: "none"`.
 *
 * @module
 */
import { linkSignals } from "../core/linked_signal.ts";
import { KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import { importUpperChanges } from "../capsule/sandbox/import_changes.ts";
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
  const deadline = linkSignals([call.signal], { timeoutMs });
  const signal = deadline.signal;
  const input = stdin === undefined ? {} : { stdin };
  const request = { kind: "spawn", command: cmd, args } as const;
  const ran = await call.gated(request, async (granted) => {
    if (granted.unsandboxed) {
      granted.warn(
        "no sandbox available; process runs UNCONFINED in the workspace (security.allow_unsandboxed_spawn)",
        { cmd },
      );
      return { unconfined: await granted.runUnconfined({ ...input, signal }) };
    }
    return {
      sandboxed: await granted.runSandboxed({
        id: call.callId,
        ...input,
        signal,
      }),
    };
  }).finally(deadline.unlink);
  if ("unconfined" in ran) {
    const out = ran.unconfined;
    return {
      exit_code: out.code,
      stdout: text(out.stdout),
      stderr: text(out.stderr),
      sandbox: "none",
    };
  }
  const run = ran.sandboxed;
  try {
    const overlay = await importUpperChanges(
      run.changes,
      (path) => run.read(path),
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
