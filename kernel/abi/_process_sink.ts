/**
 * Private: the gated sink through which a sandboxed process's changes enter
 * the session overlay — each write, new directory and delete passes the door
 * as its own file decision (manifest, policy, mode) and audit entry, exactly
 * as if the capsule had called `fs_write`, `fs_mkdir`, `fs_unlink`: the path
 * is resolved by the one mapper and the effect receives only that location.
 *
 * @module
 */
import type { ChangeSink } from "../capsule/sandbox/import_changes.ts";
import type { CallState } from "./host_call.ts";
import type { GrantedFile } from "./door_request.ts";

/**
 * The sink of one `process_spawn` call.
 *
 * @param call The call (caller, door).
 * @returns Gated write, mkdir and remove of workspace-relative paths.
 */
export function gatedOverlaySink(call: CallState): ChangeSink {
  const guest = (rel: string) => `cwd://${rel}`;
  const file = async <T>(
    rel: string,
    mode: "write" | "delete",
    effect: (file: GrantedFile) => Promise<T>,
  ): Promise<T> => {
    const path = await call.resolvePath(guest(rel), mode);
    return await call.gated({ kind: "file", mode, path }, effect);
  };
  const removeTree = (rel: string): Promise<void> =>
    file(rel, "delete", async (f) => {
      if (!(await f.exists())) return;
      if ((await f.stat()).is_dir) {
        for (const e of await f.readDir()) await removeTree(`${rel}/${e.name}`);
      }
      await f.remove();
    });
  return {
    write: (rel, data) => file(rel, "write", (f) => f.write(data)),
    mkdir: (rel) =>
      file(rel, "write", async (f) => {
        if (await f.exists()) return false;
        await f.mkdir();
        return true;
      }),
    remove: removeTree,
  };
}
