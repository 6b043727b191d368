/**
 * The file system of a cluster node's session overlays on shared storage
 * (`cluster.overlay_root`): every write under `<root>/<principal>/<session>/`
 * first makes sure this node still holds that session's lease — free while
 * the lease is valid by this node's clock, one store round trip (a renewal
 * in place) once it is not, refused (`SESSION_LEASE_LOST`) when another node
 * took the session. Reads and paths outside the root pass through.
 *
 * Security model: the store fences store writes exactly (`fenced_store.ts`);
 * a shared file system has no such check, so this guard closes what can be
 * closed from the writer's side: a node whose lease ran out (e.g. it was
 * paused past it) asks the store before it writes again. What remains is a
 * write already under way when the lease ran out (see docs/cluster.md).
 *
 * @module
 */
import type { FileSystem } from "../core/ports.ts";

/** What {@linkcode leaseGuardedFs} needs. */
export interface LeaseGuardOptions {
  /** `cluster.overlay_root` (absolute). */
  readonly root: string;
  /** The principal whose overlays these are. */
  readonly principal: string;
  /** Resolves while this node holds the session; throws `SESSION_LEASE_LOST` otherwise. */
  readonly ensure: (session: string) => Promise<void>;
}

/**
 * Wraps a file system so that writes into a session's overlay are guarded
 * by the session's lease.
 *
 * @param shared The node's file system (its non-blocking view is used).
 * @param options The overlay root, the principal, the lease check.
 * @returns The guarded file system (same optional methods as `fs`).
 */
export function leaseGuardedFs(
  shared: FileSystem,
  options: LeaseGuardOptions,
): FileSystem {
  // Shared storage: no call may block the event loop for a network round trip.
  const fs = shared.nonBlocking?.() ?? shared;
  const prefix = `${options.root.replace(/\/+$/, "")}/${options.principal}/`;
  const guard = async (...paths: string[]) => {
    for (const p of paths) {
      if (!p.startsWith(prefix)) continue;
      const session = p.slice(prefix.length).split("/")[0] ?? "";
      if (session !== "" && session !== "." && session !== "..") {
        await options.ensure(session);
      }
    }
  };
  const guarded: FileSystem = {
    readFile: (p, o) => fs.readFile(p, o),
    readTextFile: (p, o) => fs.readTextFile(p, o),
    async writeFile(p, data, o) {
      await guard(p);
      return await fs.writeFile(p, data, o);
    },
    stat: (p) => fs.stat(p),
    lstat: (p) => fs.lstat(p),
    async mkdir(p, o) {
      await guard(p);
      return await fs.mkdir(p, o);
    },
    async chmod(p, mode) {
      await guard(p);
      return await fs.chmod(p, mode);
    },
    async remove(p, o) {
      await guard(p);
      return await fs.remove(p, o);
    },
    async rename(from, to) {
      await guard(from, to);
      return await fs.rename(from, to);
    },
    readDir: (p) => fs.readDir(p),
    realPath: (p) => fs.realPath(p),
    readLink: (p) => fs.readLink(p),
  };
  const append = fs.appendFile?.bind(fs);
  if (append) {
    guarded.appendFile = async (p, data, o) => {
      await guard(p);
      return await append(p, data, o);
    };
  }
  const checked = fs.readFileChecked?.bind(fs);
  if (checked) guarded.readFileChecked = checked;
  return guarded;
}
