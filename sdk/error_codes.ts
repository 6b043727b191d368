/**
 * The error codes of Astrid, shared by the kernel, the CLI and capsules.
 *
 * Every failure that crosses a boundary (bus, daemon API, host ABI) carries one of
 * these codes as `{ code, message, data? }`. Codes are grouped by prefix.
 *
 * @module
 */

/**
 * Every error code, each with the meaning callers may rely on.
 *
 * @example Check whether a string is a known code
 * ```ts
 * import { ERROR_CODES, isErrorCode } from "./error_codes.ts";
 * console.assert(isErrorCode("CONFIG_INVALID"));
 * console.assert(ERROR_CODES.CONFIG_INVALID.length > 0);
 * ```
 */
export const ERROR_CODES: Readonly<Record<ErrorCode, string>> = Object.freeze({
  /** Input was malformed (wrong type, too long, bad characters). */
  INVALID_INPUT: "Input was malformed: wrong type, length or characters.",
  /** An identifier did not satisfy its grammar. */
  INVALID_ID: "An identifier did not satisfy its grammar.",
  /** Something asked for does not exist. */
  NOT_FOUND: "The requested item does not exist.",
  /** The operation was cancelled through an AbortSignal. */
  ABORTED: "The operation was cancelled.",
  /** An internal invariant was broken; a bug. */
  INTERNAL: "An internal invariant was broken.",
  /** Canonical JSON could not represent a value (NaN, Infinity, undefined, cycles). */
  CANONICAL_JSON_UNSUPPORTED:
    "The value cannot be represented as RFC 8785 canonical JSON.",
  /** A glob pattern was malformed (unclosed class, trailing escape). */
  GLOB_INVALID: "A glob pattern was malformed.",
  /** A key file does not exist. */
  KEY_NOT_FOUND: "The key file does not exist.",
  /** A key file is readable by group or others. */
  KEY_PERMISSIONS_TOO_OPEN: "The key file is readable by group or others.",
  /** A key file or key bytes have the wrong length or format. */
  KEY_INVALID: "The key has the wrong length or format.",
  /** A key file already exists and overwriting it was not requested. */
  KEY_EXISTS: "The key file already exists.",
  /** A signature did not verify. */
  SIGNATURE_INVALID: "A signature did not verify.",
  /** A store key was empty, too long or had an unsupported part. */
  STORE_KEY_INVALID:
    "A store key was empty, too long or had an unsupported part.",
  /** A store value exceeds the backend's size limit. */
  STORE_VALUE_TOO_LARGE: "A store value exceeds the size limit.",
  /** An atomic operation exceeded the mutation limit. */
  STORE_ATOMIC_TOO_LARGE: "An atomic operation has too many mutations.",
  /** The store is closed or could not be opened. */
  STORE_UNAVAILABLE: "The store is closed or could not be opened.",
  /** A transaction kept conflicting with concurrent writers and gave up. */
  STORE_CONFLICT:
    "A store transaction kept conflicting with concurrent writers and gave up.",
  /** A config file is not valid TOML or is too large. */
  CONFIG_PARSE: "A config file is not valid TOML or is too large.",
  /** A config key is unknown or its value has the wrong type or range. */
  CONFIG_INVALID: "A config key is unknown or its value has the wrong type.",
  /** The workspace config tried to loosen a security setting. */
  CONFIG_WIDENING: "The workspace config tried to loosen a security setting.",
  /** The capsule's manifest does not grant the action. */
  MANIFEST_DENIED: "The capsule's manifest does not grant the action.",
  /** An admin policy rule blocks the action; nothing overrides it. */
  POLICY_BLOCKED:
    "An admin policy rule blocks the action; nothing overrides it.",
  /** A capability token is malformed, forged or signed by an untrusted key. */
  CAPABILITY_INVALID:
    "A capability token is malformed, forged or signed by an untrusted key.",
  /** A capability token has expired. */
  CAPABILITY_EXPIRED: "A capability token has expired.",
  /** A capability token (or one of its ancestors) was revoked. */
  CAPABILITY_REVOKED:
    "A capability token (or one of its ancestors) was revoked.",
  /** A single-use capability token was already consumed. */
  CAPABILITY_USED: "A single-use capability token was already consumed.",
  /** An attenuated token would be wider than its parent. */
  CAPABILITY_WIDENING: "An attenuated token would be wider than its parent.",
  /** The estimated cost exceeds a per-action, session or workspace budget. */
  BUDGET_EXCEEDED:
    "The estimated cost exceeds a per-action, session or workspace budget.",
  /** A human (or the mode) denied the action. */
  APPROVAL_DENIED: "A human (or the mode) denied the action.",
  /** No human was reachable; the action was queued for later resolution. */
  APPROVAL_DEFERRED:
    "No human was reachable; the action was queued for later resolution.",
  /** No pending deferred resolution has that id. */
  DEFERRED_NOT_FOUND: "No pending deferred resolution has that id.",
  /** The audit entry could not be written, so the action was refused. */
  AUDIT_FAILED:
    "The audit entry could not be written, so the action was refused.",
  /** An audit chain failed verification. */
  AUDIT_CHAIN_BROKEN: "An audit chain failed verification.",
  /** A Capsule.toml is malformed: unknown key, wrong type or invalid value. */
  MANIFEST_INVALID:
    "A Capsule.toml is malformed: unknown key, wrong type or invalid value.",
  /** A capsule artifact's BLAKE3 hash is missing or does not match meta.json. */
  CAPSULE_INTEGRITY:
    "A capsule artifact's BLAKE3 hash is missing or does not match meta.json.",
  /** Capsule dependencies cannot be resolved: missing import, cycle or export conflict. */
  CAPSULE_RESOLVE:
    "Capsule dependencies cannot be resolved: missing import, cycle or export conflict.",
  /** A capsule call used up its running time, or waited too long in all for the kernel, and was stopped. */
  CAPSULE_TIMEOUT:
    "A capsule call used up its running time, or waited too long in all for the kernel, and was stopped.",
  /** A capsule exceeded its memory cap and was stopped. */
  CAPSULE_MEMORY: "A capsule exceeded its memory cap and was stopped.",
  /** A capsule call failed inside the guest. */
  CAPSULE_FAILED: "A capsule call failed inside the guest.",
  /** No loaded capsule or exported action has that name. */
  CAPSULE_NOT_FOUND: "No loaded capsule or exported action has that name.",
  /** A topic or topic pattern is malformed. */
  BUS_TOPIC_INVALID: "A topic or topic pattern is malformed.",
  /** The capsule's manifest does not allow publishing or subscribing to that topic. */
  BUS_ACL_DENIED:
    "The capsule's manifest does not allow publishing or subscribing to that topic.",
  /** A subscriber's queue is full; the message was refused, not dropped. */
  BUS_BACKPRESSURE:
    "A subscriber's queue is full; the message was refused, not dropped.",
  /** A request on the bus got no response before its deadline. */
  BUS_TIMEOUT: "A request on the bus got no response before its deadline.",
  /** A capsule published faster than its rate limit. */
  BUS_RATE_LIMITED: "A capsule published faster than its rate limit.",
  /** A sub-agent would be deeper than the kernel's limit. */
  AGENT_DEPTH_EXCEEDED: "A sub-agent would nest deeper than the limit.",
  /** A turn was started while another turn of the same session runs. */
  TURN_BUSY: "Another turn of this session is still running.",
  /** Another live node of the cluster holds the session's lease. */
  SESSION_ELSEWHERE: "Another node of the cluster is serving this session.",
  /** This node lost the session's lease (another node took it over): its writes are refused. */
  SESSION_LEASE_LOST:
    "This node no longer holds the session's lease; the write was refused.",
  /** The orchestrator failed the turn (its message says why). */
  TURN_FAILED: "The turn failed before the agent could answer.",
  /** An interceptor denied the message. */
  BUS_DENIED: "An interceptor denied the message.",
  /** A path resolves outside its mount (traversal, absolute path or symlink). */
  VFS_PATH_ESCAPE:
    "A path resolves outside its mount (traversal, absolute path or symlink).",
  /** A path is malformed: NUL byte, over-long, or empty where a name is required. */
  VFS_PATH_INVALID:
    "A path is malformed: NUL byte, over-long, or empty where a name is required.",
  /** The workspace file changed since it was copied up; commit refused for that path. */
  VFS_CONFLICT:
    "The workspace file changed since it was copied up; commit refused for that path.",
  /** No such file or directory in the overlay. */
  VFS_NOT_FOUND: "No such file or directory in the overlay.",
  /** A file or directory handle is unknown, closed, or wider than its parent. */
  VFS_HANDLE_INVALID:
    "A file or directory handle is unknown, closed, or wider than its parent.",
  /** The operation does not fit what is at the path (directory vs file, non-empty directory, existing target, symlink, special or oversized file, cross-mount rename). */
  VFS_INVALID_OPERATION:
    "The operation does not fit what is at the path: directory vs file, non-empty directory, existing target, symlink, special or oversized file, or cross-mount rename.",
  /** A host-call payload exceeds its size limit. */
  ABI_PAYLOAD_TOO_LARGE: "A host-call payload exceeds its size limit.",
  /** A guest called a host function that does not exist. */
  ABI_UNKNOWN_FUNCTION: "A guest called a host function that does not exist.",
  /** A capsule's KV namespace would exceed its quota (keys or bytes). */
  ABI_QUOTA_EXCEEDED: "A capsule's KV quota (keys or bytes) would be exceeded.",
  /** A capsule asked the human for approval faster than its rate limit. */
  ABI_RATE_LIMITED: "A capsule made approval requests faster than allowed.",
  /** A capsule has as many HTTP streams open as it may (`http_stream_open`). */
  ABI_STREAM_LIMIT:
    "A capsule tried to open more HTTP streams than it may hold open at once.",
  /** A streamed HTTP response went past its byte cap (`max_bytes`); the stream was closed. */
  ABI_STREAM_TOO_LARGE:
    "A streamed HTTP response exceeded its byte cap and was closed.",
  /** A streamed HTTP response went past its total time cap (`timeout_ms`); the stream was closed. */
  ABI_STREAM_TIMEOUT:
    "A streamed HTTP response exceeded its time cap and was closed.",
  /** ASTRID_HOME (or HOME) is missing, relative, or contains `..`. */
  HOME_INVALID: "ASTRID_HOME is missing, relative, or contains '..'.",
  /** A host operation (fs, spawn, net) failed. */
  HOST_IO: "A host operation failed.",
  /** The host denied a permission (Deno sandbox). */
  HOST_PERMISSION_DENIED: "The host sandbox denied the operation.",
  /** A kernel tool (bundler, `deno cache`) needed a download that failed; the message says what and how to pre-fetch it. */
  TOOL_DOWNLOAD:
    "A kernel tool needed a package or module it could not download (offline, proxy or certificate settings).",
  /** No process sandbox (bubblewrap with user namespaces) is available, and config does not allow unsandboxed spawns. */
  SANDBOX_UNAVAILABLE:
    "No process sandbox is available here, and config does not allow running processes unsandboxed.",
  /** A turn reached its most model calls (`max_iterations`) without a final answer. */
  TURN_MAX_ITERATIONS:
    "The turn reached its limit of model calls without a final answer.",
  /** A model provider could not answer: the API refused or failed (after bounded retries), the stream was cut, or the answer is not a model response. */
  PROVIDER_FAILED:
    "A model provider failed: the API returned an error (after bounded retries), its stream was cut, or its answer is not a model response.",
  /** The API request carries no bearer token, or the wrong one. */
  API_UNAUTHORIZED:
    "The API request carries no bearer token, or the wrong one.",
  /** The API request is malformed: not JSON, a missing or mistyped field. */
  API_BAD_REQUEST:
    "The API request is malformed: not JSON, a missing or mistyped field.",
  /** The API request body is larger than the daemon accepts. */
  API_BODY_TOO_LARGE: "The API request body is larger than the daemon accepts.",
  /** No API route has that path. */
  API_NOT_FOUND: "No API route has that path.",
  /** The API route exists but not with that method. */
  API_METHOD_NOT_ALLOWED: "The API route exists but not with that method.",
  /** No daemon answers on this home's socket, and none could be started. */
  DAEMON_UNAVAILABLE:
    "No daemon answers on this home's socket, and none could be started.",
  /** A daemon already serves this home. */
  DAEMON_RUNNING: "A daemon already serves this home.",
  /** The workspace is outside the roots the daemon may read and write. */
  WORKSPACE_OUTSIDE_ROOTS:
    "The workspace is outside the roots the daemon may read and write.",
  /** The engine cannot run here (e.g. subprocesses on Deno Deploy). */
  ENGINE_UNAVAILABLE:
    "The engine cannot run here (e.g. subprocesses on Deno Deploy).",
  /** The cluster's message server (NATS JetStream) cannot be reached or refused the request. */
  CLUSTER_UNAVAILABLE:
    "The cluster's message server cannot be reached or refused the request.",
  /** A message from another node was malformed, unsigned or claimed a false origin. */
  CLUSTER_MESSAGE_INVALID:
    "A message from another node was malformed, unsigned or claimed a false origin.",
});

/**
 * The union of all error codes.
 *
 * - `INVALID_INPUT`, `INVALID_ID`, `NOT_FOUND`, `ABORTED`, `INTERNAL`: general.
 * - `CANONICAL_JSON_UNSUPPORTED`, `GLOB_INVALID`: core helpers.
 * - `KEY_*`, `SIGNATURE_INVALID`: crypto.
 * - `STORE_*`: the Store port.
 * - `CONFIG_*`: layered configuration.
 * - `MANIFEST_DENIED`, `POLICY_BLOCKED`, `CAPABILITY_*`, `BUDGET_EXCEEDED`, `APPROVAL_*`,
 *   `DEFERRED_NOT_FOUND`, `AUDIT_*`: the security gate and the audit chain.
 * - `MANIFEST_INVALID`, `CAPSULE_*`, `BUS_*`, `VFS_*`, `ABI_*`: capsules, the bus, the
 *   overlay and the host ABI.
 * - `HOME_INVALID`, `HOST_*`: the host adapters.
 * - `TOOL_DOWNLOAD`: a kernel tool run (bundler, `deno cache`) could not download.
 * - `SANDBOX_UNAVAILABLE`: process confinement.
 * - `TURN_MAX_ITERATIONS`, `PROVIDER_FAILED`: the agent's turn and the model providers.
 * - `API_*`, `DAEMON_*`, `WORKSPACE_OUTSIDE_ROOTS`, `ENGINE_UNAVAILABLE`: the daemon's
 *   HTTP API, its process, and what its scoped permissions allow.
 * - `CLUSTER_*`: events across nodes (NATS JetStream).
 */
export type ErrorCode =
  | "INVALID_INPUT"
  | "INVALID_ID"
  | "NOT_FOUND"
  | "ABORTED"
  | "INTERNAL"
  | "CANONICAL_JSON_UNSUPPORTED"
  | "GLOB_INVALID"
  | "KEY_NOT_FOUND"
  | "KEY_PERMISSIONS_TOO_OPEN"
  | "KEY_INVALID"
  | "KEY_EXISTS"
  | "SIGNATURE_INVALID"
  | "STORE_KEY_INVALID"
  | "STORE_VALUE_TOO_LARGE"
  | "STORE_ATOMIC_TOO_LARGE"
  | "STORE_UNAVAILABLE"
  | "STORE_CONFLICT"
  | "CLUSTER_UNAVAILABLE"
  | "CLUSTER_MESSAGE_INVALID"
  | "CONFIG_PARSE"
  | "CONFIG_INVALID"
  | "CONFIG_WIDENING"
  | "MANIFEST_DENIED"
  | "POLICY_BLOCKED"
  | "CAPABILITY_INVALID"
  | "CAPABILITY_EXPIRED"
  | "CAPABILITY_REVOKED"
  | "CAPABILITY_USED"
  | "CAPABILITY_WIDENING"
  | "BUDGET_EXCEEDED"
  | "APPROVAL_DENIED"
  | "APPROVAL_DEFERRED"
  | "DEFERRED_NOT_FOUND"
  | "AUDIT_FAILED"
  | "AUDIT_CHAIN_BROKEN"
  | "MANIFEST_INVALID"
  | "CAPSULE_INTEGRITY"
  | "CAPSULE_RESOLVE"
  | "CAPSULE_TIMEOUT"
  | "CAPSULE_MEMORY"
  | "CAPSULE_FAILED"
  | "CAPSULE_NOT_FOUND"
  | "BUS_TOPIC_INVALID"
  | "BUS_ACL_DENIED"
  | "BUS_BACKPRESSURE"
  | "BUS_TIMEOUT"
  | "BUS_RATE_LIMITED"
  | "AGENT_DEPTH_EXCEEDED"
  | "TURN_BUSY"
  | "SESSION_ELSEWHERE"
  | "SESSION_LEASE_LOST"
  | "TURN_FAILED"
  | "BUS_DENIED"
  | "VFS_PATH_ESCAPE"
  | "VFS_PATH_INVALID"
  | "VFS_CONFLICT"
  | "VFS_NOT_FOUND"
  | "VFS_HANDLE_INVALID"
  | "VFS_INVALID_OPERATION"
  | "ABI_PAYLOAD_TOO_LARGE"
  | "ABI_UNKNOWN_FUNCTION"
  | "ABI_QUOTA_EXCEEDED"
  | "ABI_RATE_LIMITED"
  | "ABI_STREAM_LIMIT"
  | "ABI_STREAM_TOO_LARGE"
  | "ABI_STREAM_TIMEOUT"
  | "HOME_INVALID"
  | "HOST_IO"
  | "HOST_PERMISSION_DENIED"
  | "TOOL_DOWNLOAD"
  | "SANDBOX_UNAVAILABLE"
  | "TURN_MAX_ITERATIONS"
  | "PROVIDER_FAILED"
  | "API_UNAUTHORIZED"
  | "API_BAD_REQUEST"
  | "API_BODY_TOO_LARGE"
  | "API_NOT_FOUND"
  | "API_METHOD_NOT_ALLOWED"
  | "DAEMON_UNAVAILABLE"
  | "DAEMON_RUNNING"
  | "WORKSPACE_OUTSIDE_ROOTS"
  | "ENGINE_UNAVAILABLE";

/**
 * An error as it crosses a boundary: never a stack trace or a host path.
 */
export interface WireError {
  /** The machine-readable code. */
  readonly code: ErrorCode;
  /** A human-readable sentence saying what failed and why. */
  readonly message: string;
  /** Optional structured detail, safe to show to the caller. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** The correlation id that matches the audit entry, when there is one. */
  readonly correlationId?: string;
}

/**
 * Tells whether a string is one of the documented error codes.
 *
 * @param value The string to test.
 * @returns `true` when `value` is an {@linkcode ErrorCode}.
 *
 * @example Narrow an untrusted code
 * ```ts
 * import { isErrorCode } from "./error_codes.ts";
 * console.assert(isErrorCode("NOT_FOUND"));
 * console.assert(!isErrorCode("nope"));
 * ```
 */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
