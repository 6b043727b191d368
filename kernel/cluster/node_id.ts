/**
 * This node's id in a cluster (several kernels sharing one `store.url`):
 * `[cluster] node_id` (env `ASTRID_NODE_ID`) when set, else an id generated
 * once and kept in `ASTRID_HOME/var/node_id`, so a node keeps its id across
 * restarts.
 *
 * Security model: the id names a node in the registry and in session leases;
 * it is not a credential (every node shares the cluster's runtime key). It is
 * validated like the config key (1–63 of `[A-Za-z0-9_-]`, no `.`: the id is a NATS subject token), so a tampered
 * file cannot inject anything into keys or logs; a file that does not hold a
 * valid id is refused (`CONFIG_INVALID`), never silently replaced.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileSystem, Random } from "../core/ports.ts";

/** The shape of a node id. */
export const NODE_ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** What {@linkcode resolveNodeId} needs. */
export interface NodeIdOptions {
  /** `cluster.node_id` (`""` = not configured). */
  readonly configured: string;
  /** `ASTRID_HOME/var`. */
  readonly varDir: string;
  /** The file system. */
  readonly fs: FileSystem;
  /** Randomness for a new id. */
  readonly random: Random;
}

/**
 * This node's id: the configured one, else the one kept in `var/node_id`,
 * else a new one written there (`node-` + 12 hex digits).
 *
 * @param options Config value, `var` directory, ports.
 * @returns The id.
 * @throws {KernelError} `CONFIG_INVALID` when the configured or stored id is
 *   malformed; `HOST_IO` when the file cannot be written.
 *
 * @example
 * ```ts
 * import { resolveNodeId } from "./node_id.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * const dir = await Deno.makeTempDir();
 * const random = { bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)) };
 * const opts = { configured: "", varDir: dir, fs: createDenoFs(), random };
 * const first = await resolveNodeId(opts);
 * console.assert(first === await resolveNodeId(opts));
 * console.assert(await resolveNodeId({ ...opts, configured: "db-1" }) === "db-1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveNodeId(options: NodeIdOptions): Promise<string> {
  if (options.configured !== "") return checked(options.configured, "config");
  const file = `${options.varDir}/node_id`;
  try {
    return checked((await options.fs.readTextFile(file)).trim(), "var/node_id");
  } catch (err) {
    if (!KernelError.is(err, "NOT_FOUND")) throw err;
  }
  const hex = Array.from(
    options.random.bytes(6),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const id = `node-${hex}`;
  try {
    await options.fs.writeFile(file, `${id}\n`, {
      mode: 0o600,
      createNew: true,
    });
  } catch (err) {
    // Another process of this home wrote it first: use theirs.
    if (!KernelError.is(err, "HOST_IO")) throw err;
    return checked((await options.fs.readTextFile(file)).trim(), "var/node_id");
  }
  return id;
}

function checked(id: string, from: string): string {
  if (!NODE_ID_PATTERN.test(id)) {
    throw new KernelError(
      "CONFIG_INVALID",
      `The node id from ${from} is malformed: expected 1-63 letters, digits, '.', '_' or '-'`,
    );
  }
  return id;
}
