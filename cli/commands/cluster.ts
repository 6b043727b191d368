/**
 * `astrid cluster status [--json]`: the nodes of the cluster this daemon (or
 * headless server, with `--url`) belongs to — each with its last heartbeat
 * and health, judged by this node's clock; no leader is asked — and whether
 * the store and NATS answer.
 *
 * @module
 */
import type { ApiClient } from "../../kernel/api/client_kit.ts";
import type { ClusterStatus } from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { table, UsageError } from "../output.ts";
import type { CommandIo } from "./command_io.ts";

/** Help text of `astrid cluster`. */
export const CLUSTER_HELP = `astrid cluster — several kernels sharing one store

Usage:
  astrid cluster status [--json]   nodes (last heartbeat, health), store and NATS

A kernel is a cluster node when [store] url names a PostgreSQL database; the
nodes of one database form the cluster. Each node writes a heartbeat every
third of [cluster] lease_secs; a node is 'alive' while its last heartbeat is
younger than its lease, 'stale' after, 'stopped' once it stopped gracefully.
There is no leader: any node answers from the shared store.

Configuration ([cluster] in config.toml, or the environment):
  node_id        this node's id (ASTRID_NODE_ID; default: generated once,
                 kept in $ASTRID_HOME/var/node_id)
  overlay_root   session overlays on storage every node mounts
                 (ASTRID_OVERLAY_ROOT), so sessions can move between nodes
  lease_secs     how long a heartbeat and a session lease last (default 15)`;

function ms(v: number | null): string {
  return v === null ? "-" : `${v} ms`;
}

/**
 * Runs `astrid cluster <sub>`.
 *
 * @param client The daemon's (or headless server's) API.
 * @param args Arguments after `cluster`.
 * @param flags Global flags.
 * @param io The terminal.
 * @returns The exit code: 0, or 1 when the store does not answer.
 */
export async function clusterCommand(
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
): Promise<number> {
  const [sub, ...extra] = args;
  if (sub !== "status" || extra.length > 0) {
    throw new UsageError(`Usage: astrid cluster status [--json]`);
  }
  const s = await client.call<ClusterStatus>("clusterStatus");
  const code = s.store.reachable === false ? 1 : 0;
  if (flags.json) {
    io.out(JSON.stringify(s));
    return code;
  }
  io.out(
    s.clustered
      ? `node: ${s.node_id} (store: ${s.store_backend})`
      : "not clustered: the store is the embedded Deno KV of this home (set [store] url to a postgres:// URL to share it)",
  );
  io.out(
    `store: ${
      s.store.reachable ? "reachable" : "UNREACHABLE"
    } (${s.store.detail}, ${ms(s.store.latency_ms)})`,
  );
  io.out(
    `nats: ${
      !s.nats.configured
        ? "not configured"
        : s.nats.reachable === null
        ? "configured"
        : s.nats.reachable
        ? "reachable"
        : "UNREACHABLE"
    } (${s.nats.detail}${
      s.nats.latency_ms === null ? "" : `, ${ms(s.nats.latency_ms)}`
    })`,
  );
  if (s.nodes.length > 0) {
    io.out("");
    io.out(table([
      [
        "NODE",
        "HEALTH",
        "LAST HEARTBEAT",
        "AGE",
        "SESSIONS",
        "MODE",
        "VERSION",
      ],
      ...s.nodes.map((n) => [
        n.node_id === s.node_id ? `${n.node_id} (this)` : n.node_id,
        n.health,
        new Date(n.heartbeat_at).toISOString().replace("T", " ").slice(0, 19),
        `${(n.age_ms / 1000).toFixed(1)} s`,
        String(n.sessions),
        n.mode,
        n.version,
      ]),
    ]));
  }
  return code;
}
