/**
 * Private: the gated sink through which a sandboxed process's changes enter
 * the session overlay — each write, new directory and delete is its own
 * `capsule_file_access` decision (manifest, policy, mode) and audit entry,
 * exactly as if the capsule had called `fs_write`, `fs_mkdir`, `fs_unlink`.
 *
 * @module
 */
import type { Action } from "../security/action.ts";
import type { ChangeSink } from "../capsule/sandbox/import_changes.ts";
import type { GuestFs } from "./ports.ts";
import type { CallState } from "./host_call.ts";
import { hostPathOf } from "./guest_path.ts";

async function removeTree(fs: GuestFs, guest: string): Promise<void> {
  const info = await fs.stat(guest);
  if (info.is_dir) {
    for (const e of await fs.readDir(guest)) {
      await removeTree(fs, `${guest}/${e.name}`);
    }
  }
  await fs.remove(guest);
}

/**
 * The sink of one `process_spawn` call.
 *
 * @param call The call (caller, gate, guest file system).
 * @returns Gated write, mkdir and remove of workspace-relative paths.
 */
export function gatedOverlaySink(call: CallState): ChangeSink {
  const fs = call.deps.fs(call.caller);
  const guest = (rel: string) => `cwd://${rel}`;
  const gated = <T>(
    rel: string,
    mode: "write" | "delete",
    fn: string,
    effect: () => Promise<T>,
  ) => {
    const action: Action = {
      type: "capsule_file_access",
      capsule_id: call.caller.capsule,
      path: hostPathOf(guest(rel), call.caller),
      mode,
    };
    return call.gated(action, effect, fn);
  };
  return {
    write: (rel, data) =>
      gated(
        rel,
        "write",
        "process_spawn",
        () => fs.write(guest(rel), data, { signal: call.signal }),
      ),
    mkdir: async (rel) => {
      if (await fs.exists(guest(rel))) return false;
      await gated(rel, "write", "process_spawn", () => fs.mkdir(guest(rel)));
      return true;
    },
    remove: (rel) =>
      gated(rel, "delete", "process_spawn", async () => {
        if (await fs.exists(guest(rel))) await removeTree(fs, guest(rel));
      }),
  };
}
