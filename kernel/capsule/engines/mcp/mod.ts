/**
 * The `mcp` engine ({@linkcode createMcpEngine}): MCP servers run as
 * subprocesses confined by permissions derived from their capsule's manifest,
 * supervised ({@linkcode McpServerProcess}: restart with backoff, no orphans),
 * their tools exposed on the bus and every call gated
 * ({@linkcode McpCapsule}). This folder also holds the launch command line ({@linkcode denoLaunchArgs}), the checks run before
 * launch ({@linkcode checkGrantedRootsForSymlinkEscape},
 * {@linkcode checkImportGraph}) and the permission broker
 * ({@linkcode startPermissionBroker}, answered by the gate through
 * {@linkcode brokerDecider}).
 *
 * Security model: servers run `deno run --no-prompt --deny-import` with
 * explicit `--allow-read/--allow-write/--allow-net/--allow-env` lists (flags
 * mode) or none at all (broker mode, where the kernel's broker decides);
 * never `--allow-run`, `--allow-ffi`, `--allow-sys` or `-A`. The environment
 * is scrubbed to the granted names. Because Deno follows pre-existing
 * symlinks out of granted roots and loads static imports without read
 * permission, launch is refused when a granted root holds an escaping symlink
 * or the static import graph reaches local files outside the capsule dir.
 * In broker mode every permission check of the child arrives on a `0600`
 * socket of its own, becomes an audited `mcp_permission_check` gate action,
 * and a malformed line or a closed socket ends the child (fail closed).
 * Non-Deno commands come back as `needs_sandbox`.
 *
 * @example Derive the command line of an npm server
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoLaunchArgs } from "./mod.ts";
 * const launch = denoLaunchArgs(
 *   { command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"] },
 *   { fs_read: [], fs_write: ["cwd://memory"], net: [], env: [] },
 *   { denoPath: "/usr/bin/deno", capsuleDir: "/caps/mem", workspace: "/ws", mode: "flags" },
 * );
 * assert.ok(launch.kind === "deno" && launch.args.includes("--allow-write=/ws/memory"));
 * ```
 *
 * @module
 */
export { denoLaunchArgs, grantedRoots } from "./launch_flags.ts";
export type {
  GrantedRoots,
  LaunchGrants,
  LaunchOptions,
  McpLaunch,
  McpServerCommand,
} from "./launch_flags.ts";
export {
  checkGrantedRootsForSymlinkEscape,
  checkImportGraph,
} from "./prelaunch_checks.ts";
export type {
  ImportGraphDeps,
  ImportGraphOptions,
  SymlinkCheckOptions,
} from "./prelaunch_checks.ts";
export { startPermissionBroker } from "./permission_broker.ts";
export type {
  BrokerDecide,
  BrokerRequest,
  BrokerStats,
  BrokerVerdict,
  PermissionBroker,
  PermissionBrokerOptions,
} from "./permission_broker.ts";
export { brokerDecider } from "./broker_decider.ts";
export type { BrokerDeciderOptions } from "./broker_decider.ts";
export { connectMcpClient } from "./client/mod.ts";
export type {
  McpCallOptions,
  McpClientHandlers,
  McpClientOptions,
  McpClientSession,
  McpElicitRequest,
  McpElicitResult,
  McpListOptions,
  McpLogEntry,
  McpProgress,
  McpPrompt,
  McpResource,
  McpResourceTemplate,
  McpRoot,
  McpSamplingRequest,
  McpSamplingResult,
  McpStdio,
  McpTool,
  McpToolResult,
} from "./client/mod.ts";
export { SANDBOX_PATH, sandboxLaunchArgs } from "./sandbox_launch.ts";
export type { SandboxLaunch, SandboxOptions } from "./sandbox_launch.ts";
export { findBubblewrap } from "../../sandbox/find_bwrap.ts";
export type { FindBubblewrapOptions } from "../../sandbox/find_bwrap.ts";
export { createMcpEngine } from "./mcp_engine.ts";
export type { McpEngineDeps } from "./mcp_engine.ts";
export { McpCapsule } from "./mcp_capsule.ts";
export type { CapsuleServer, McpCapsuleDeps } from "./mcp_capsule.ts";
export { DEFAULT_RESTART_POLICY, McpServerProcess } from "./server_process.ts";
export type {
  LaunchedServer,
  RestartPolicy,
  ServerProcessDeps,
  ServerProcessOptions,
} from "./server_process.ts";
export { createServerLauncher } from "./launch_server.ts";
export type {
  Confinement,
  ServerLaunchDeps,
  ServerLaunchSpec,
} from "./launch_server.ts";
export { clientHandlers } from "./client_handlers.ts";
export type {
  ClientHandlerOptions,
  McpElicitPort,
  McpSamplingPort,
} from "./client_handlers.ts";
export {
  busToolName,
  describeTools,
  executeResult,
  indexTools,
  resultText,
  toolInterceptors,
} from "./tool_index.ts";
export type { IndexedTool } from "./tool_index.ts";
