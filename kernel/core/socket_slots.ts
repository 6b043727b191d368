/**
 * Fixed names for the kernel's short-lived Unix sockets in `ASTRID_HOME/run`.
 *
 * Why: Deno scopes Unix sockets in `--allow-net` by exact path
 * (`unix:/abs/path`, no directories or wildcards), so the daemon's flags
 * (the sixth layer, `kernel/daemon/deno_flags.ts`) can only allow sockets
 * whose names are known in advance. Each kind has a fixed number of slots;
 * a process claims a free one (in-process bookkeeping here; another process
 * or a stale file is the binder's business: it reports "in use" and the next
 * slot is tried).
 *
 * @module
 */
import { KernelError } from "./errors.ts";

/** The kinds of sockets and how many of each may be open at once. */
export const SOCKET_SLOTS: Readonly<
  Record<"fetch" | "mcp", { readonly prefix: string; readonly count: number }>
> = Object.freeze({
  /** The one-shot proxy of a pinned HTTP request (`host/pinned_fetch.ts`). */
  fetch: Object.freeze({ prefix: "f-", count: 64 }),
  /** The permission broker of a running Deno MCP server. */
  mcp: Object.freeze({ prefix: "mcp-", count: 128 }),
});

/** A kind of socket slot. */
export type SocketSlotKind = keyof typeof SOCKET_SLOTS;

/**
 * Every slot path of a kind under `dir`, in claiming order.
 *
 * @param dir The socket directory (`ASTRID_HOME/run`).
 * @param kind The kind.
 * @returns The absolute paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { socketSlotPaths } from "./socket_slots.ts";
 * assert.equal(socketSlotPaths("/h/run", "fetch")[0], "/h/run/f-0.sock");
 * ```
 */
export function socketSlotPaths(dir: string, kind: SocketSlotKind): string[] {
  const { prefix, count } = SOCKET_SLOTS[kind];
  return Array.from({ length: count }, (_, i) => `${dir}/${prefix}${i}.sock`);
}

const claimed = new Set<string>();

/** A claimed slot and what was bound on it. */
export interface SocketSlot<T> {
  readonly path: string;
  readonly value: T;
  /** Frees the slot for this process (after the socket file is removed). */
  release(): void;
}

/**
 * Claims the first free slot of a kind and binds it.
 *
 * @param dir The socket directory.
 * @param kind The kind.
 * @param bind Binds a socket at the path; returns `null` when the path is in
 *   use by another process (then the next slot is tried); throws otherwise.
 * @returns The slot.
 * @throws {KernelError} `HOST_IO` when every slot is in use; whatever `bind` throws.
 */
export async function claimSocketSlot<T>(
  dir: string,
  kind: SocketSlotKind,
  bind: (path: string) => Promise<T | null>,
): Promise<SocketSlot<T>> {
  for (const path of socketSlotPaths(dir, kind)) {
    if (claimed.has(path)) continue;
    claimed.add(path);
    let value: T | null;
    try {
      value = await bind(path);
    } catch (err) {
      claimed.delete(path);
      throw err;
    }
    if (value === null) {
      claimed.delete(path);
      continue;
    }
    let released = false;
    return {
      path,
      value,
      release: () => {
        if (released) return;
        released = true;
        claimed.delete(path);
      },
    };
  }
  throw new KernelError(
    "HOST_IO",
    `Cannot open another ${kind} socket as all ${
      SOCKET_SLOTS[kind].count
    } slots are in use; retry when a request or server has finished`,
  );
}
