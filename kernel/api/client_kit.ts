/**
 * What a client of the daemon needs, and nothing more: the CLI's daemon
 * commands load this instead of the whole kernel (`mod.ts` pulls in the
 * engines, QuickJS, the MCP SDK…), so `astrid -p` and `astrid status` start
 * in tens of milliseconds.
 *
 * @module
 */
export { KernelError } from "../core/errors.ts";
export type { ErrorCode } from "../core/errors.ts";
export type { Logger } from "../core/ports.ts";
export { type LinkedSignal, linkSignals } from "../core/linked_signal.ts";
export { ApiClient } from "./client.ts";
export { constantTimeEqual } from "./router.ts";
export type { ApiReply, ApiTransport, CallOptions } from "./client.ts";
export type * from "./contract.ts";
export type { ClusterStatus, Reachability } from "../cluster/cluster_status.ts";
export type { NodeView } from "../cluster/node_registry.ts";
export { daemonEnv } from "../daemon/daemon_env.ts";
export { parseReady, runFiles } from "../daemon/run_files.ts";
export type { ReadyInfo, RunFiles } from "../daemon/run_files.ts";
export { astridHomePaths, resolveAstridHome } from "../host/astrid_home.ts";
export { isAbsolute, join, resolve } from "../core/posix_path.ts";
