/**
 * The `mcp` engine: loads a capsule made of `[[mcp_server]]` entries, each a
 * confined, supervised subprocess spoken to over MCP (stdio), or a remote
 * server over Streamable HTTP whose every request is gated
 * ({@linkcode createRemoteLauncher}).
 *
 * Security model: see {@linkcode createServerLauncher} (confinement and
 * checks), {@linkcode McpCapsule} (every call gated) and
 * {@linkcode clientHandlers} (elicitation and sampling gated). The default
 * confinement of Deno servers is the permission broker; `mode = "flags"`
 * per server selects manifest-derived `--allow-*` lists instead.
 *
 * @module
 */
import type { Clock, Logger } from "../../../core/ports.ts";
import type { PrincipalId, SessionId } from "../../../core/ids.ts";
import type { Gate } from "../../../security/gate.ts";
import type { Engine } from "../../engine.ts";
import type { McpElicitPort, McpSamplingPort } from "./client_handlers.ts";
import type { ServerLaunchDeps } from "./launch_server.ts";
import type { RestartPolicy } from "./server_process.ts";
import type { McpRemoteDeps } from "./remote_server.ts";

/** Dependencies of {@linkcode createMcpEngine}. */
export interface McpEngineDeps {
  readonly gate: Pick<Gate, "run" | "decide">;
  readonly launch: ServerLaunchDeps;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The session the capsules run in. */
  readonly context: {
    readonly principal: PrincipalId;
    readonly session: SessionId;
    readonly workspace: string;
    readonly principalHome?: string;
  };
  /** A `0700` directory for broker sockets. */
  readonly socketDir: string;
  /** Sandboxed servers get `<scratchRoot>/<capsule>/<server>` as their only writable dir. */
  readonly scratchRoot: string;
  /** Dirs a sandboxed server must not see (the kernel's home with its keys). */
  readonly hiddenDirs: readonly string[];
  /** Spellings of `$ASTRID_HOME`: a flags-mode server's roots may not touch it. */
  readonly kernelHome?: readonly string[];
  readonly elicit?: McpElicitPort;
  readonly sampling?: McpSamplingPort;
  readonly restart?: Partial<RestartPolicy>;
  /**
   * The kernel's checked fetch and secret store, for `[[mcp_server]] url`;
   * without it a remote server is refused.
   */
  readonly remote?: McpRemoteDeps;
}

/**
 * Creates the `mcp` engine.
 *
 * @param deps Gate, host ports, session context, ports for elicitation and sampling.
 * @returns The engine.
 * @throws {KernelError} (from `load`) `MANIFEST_INVALID` when the capsule has no
 *   `[[mcp_server]]`, plus the launch and start codes of its servers
 *   (`VFS_PATH_ESCAPE`, `HOST_PERMISSION_DENIED`, `CAPSULE_FAILED`, `CAPSULE_TIMEOUT`).
 */
export function createMcpEngine(deps: McpEngineDeps): Engine {
  return {
    name: "mcp",
    // The MCP SDK and the server launcher load with the first MCP capsule:
    // a daemon or CLI without one never pays for them.
    load: async (options) =>
      (await import("./mcp_load.ts")).loadMcpCapsule(deps, options),
  };
}
