/**
 * What a validated manifest grants: the gate's {@linkcode CapsuleGrants}
 * (layer 0) and the bus's publish/subscribe ACL.
 *
 * Security model: the mapping only copies allow-lists the manifest declares;
 * it never widens them. `net_bind` is granted only by a non-empty entry;
 * `env` lists the non-secret `[env]` names an MCP subprocess may read, and
 * secrets are listed separately so their values can only be substituted by
 * the kernel (never exposed as environment).
 *
 * @module
 */
import type { CapsuleGrants } from "../../security/manifest_grant.ts";
import type { CapsuleManifest } from "./manifest_types.ts";

/**
 * Maps `[capabilities]`, `[[mcp_server]]` and `[env]` to the gate's grants.
 *
 * @param manifest A validated manifest.
 * @returns Frozen grants: fs, net and process lists as declared; `net_bind`
 *   when any entry is non-empty; `mcp_servers` = the server ids; `env` = the
 *   non-secret `[env]` names; `secrets` = the `type = "secret"` names.
 *
 * @example Map a manifest's grants
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantsFromManifest, parseManifest } from "./mod.ts";
 * const result = parseManifest(
 *   '[package]\nname = "web"\nversion = "1.0.0"\n[capabilities]\nnet = ["api.example.com"]\n' +
 *     '[env.API_KEY]\ntype = "secret"\n',
 *   { file: "Capsule.toml", kernelVersion: "0.1.0" },
 * );
 * assert.ok(result.ok);
 * const grants = grantsFromManifest(result.value);
 * assert.deepEqual(grants.net, ["api.example.com"]);
 * assert.deepEqual(grants.secrets, ["API_KEY"]);
 * ```
 */
export function grantsFromManifest(manifest: CapsuleManifest): CapsuleGrants {
  const caps = manifest.capabilities;
  return Object.freeze({
    fs_read: Object.freeze([...caps.fs_read]),
    fs_write: Object.freeze([...caps.fs_write]),
    net: Object.freeze([...caps.net]),
    host_process: Object.freeze([...caps.host_process]),
    net_bind: caps.net_bind.some((e) => e !== ""),
    mcp_servers: Object.freeze(manifest.mcp_servers.map((s) => s.id)),
    env: Object.freeze(
      manifest.env.filter((e) => e.type !== "secret").map((e) => e.key),
    ),
    secrets: Object.freeze(
      manifest.env.filter((e) => e.type === "secret").map((e) => e.key),
    ),
    // `approval = true` lets the ABI's door put approval requests before the human.
    other: Object.freeze(caps.approval ? ["approval_request"] : []),
  });
}

/** A capsule's bus ACL (reference §4.3). Empty lists deny. */
export interface IpcAcl {
  /** Topic patterns the capsule may publish to (`*` = one segment). */
  readonly publish: readonly string[];
  /** Topic patterns the capsule may subscribe with. */
  readonly subscribe: readonly string[];
}

/**
 * What the `mcp` engine publishes for its capsule: tool results. The
 * publisher is kernel code (the engine), never the server, and it only
 * publishes results of the capsule's own tools.
 */
const MCP_RESULT_TOPICS = "tool.v1.execute.*.result";

/**
 * Returns the capsule's `ipc_publish` / `ipc_subscribe` patterns (already
 * validated: non-empty segments of `[A-Za-z0-9_-]` or `*`, at most 8).
 *
 * @param manifest A validated manifest.
 * @param options `engine: "mcp"` adds the publish grant the engine needs for
 *   tool results (`tool.v1.execute.*.result`).
 * @returns The frozen ACL; empty lists mean the capsule may not publish or subscribe.
 *
 * @example Read the ACL
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipcAclFromManifest, parseManifest } from "./mod.ts";
 * const result = parseManifest(
 *   '[package]\nname = "bot"\nversion = "1.0.0"\n[capabilities]\nipc_publish = ["bot.v1.*"]\n',
 *   { file: "Capsule.toml", kernelVersion: "0.1.0" },
 * );
 * assert.ok(result.ok);
 * assert.deepEqual(ipcAclFromManifest(result.value), { publish: ["bot.v1.*"], subscribe: [] });
 * ```
 */
export function ipcAclFromManifest(
  manifest: CapsuleManifest,
  options: { engine?: CapsuleManifest["engine"] } = {},
): IpcAcl {
  const publish = [...manifest.capabilities.ipc_publish];
  if (options.engine === "mcp" && !publish.includes(MCP_RESULT_TOPICS)) {
    publish.push(MCP_RESULT_TOPICS);
  }
  return Object.freeze({
    publish: Object.freeze(publish),
    subscribe: Object.freeze([...manifest.capabilities.ipc_subscribe]),
  });
}
