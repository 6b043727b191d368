/**
 * The host ABI: the functions a capsule can call on the kernel, by name, with
 * JSON in and JSON out. Every call is mapped to a gate action by the kernel and
 * decided before any effect (see the kernel's `kernel/abi`). Names follow the
 * reference host ABI without the `astrid_` prefix; the socket-accept family is
 * absent (the daemon API replaces it).
 *
 * @module
 */

/** Parameters and results of every host function, keyed by name. */
export interface HostFunctions {
  /** Reads a file (overlay, `home://`, `/tmp`). Result: base64 or UTF-8 text. */
  fs_read: {
    params: { path: string; encoding?: "utf8" | "base64" };
    result: { content: string };
  };
  /** Writes (creates or truncates) a file in the session overlay. */
  fs_write: {
    params: { path: string; content: string; encoding?: "utf8" | "base64" };
    result: { ok: true };
  };
  /** Tells whether a path exists. */
  fs_exists: { params: { path: string }; result: { exists: boolean } };
  /** Lists a directory (union of overlay and workspace). */
  fs_readdir: {
    params: { path: string };
    result: { entries: { name: string; is_dir: boolean }[] };
  };
  /** Stats a path. */
  fs_stat: {
    params: { path: string };
    result: { size: number; is_dir: boolean; mtime_ms: number | null };
  };
  /** Creates a directory and its parents. */
  fs_mkdir: { params: { path: string }; result: { ok: true } };
  /** Deletes a file (a whiteout for workspace files). */
  fs_unlink: { params: { path: string }; result: { ok: true } };
  /** Publishes on the bus (manifest ACL). */
  ipc_publish: {
    params: { topic: string; payload: unknown };
    result: { ok: true };
  };
  /** Sends a request on the bus and waits for the response (`timeout_ms`: default 30 000, at most 1 800 000). */
  ipc_request: {
    params: { topic: string; payload: unknown; timeout_ms?: number };
    result: { payload: unknown };
  };
  /** Reads a key of the capsule's own KV namespace. */
  kv_get: { params: { key: string }; result: { value: unknown | null } };
  /** Writes a key of the capsule's own KV namespace (quota: 10 000 keys, 64 MiB; `ABI_QUOTA_EXCEEDED`). */
  kv_set: { params: { key: string; value: unknown }; result: { ok: true } };
  /** Deletes a key of the capsule's own KV namespace. */
  kv_delete: { params: { key: string }; result: { ok: true } };
  /** Lists keys of the capsule's own KV namespace under a prefix. */
  kv_list_keys: { params: { prefix: string }; result: { keys: string[] } };
  /** An HTTP request (manifest `net`, SSRF policy, `{{secret:NAME}}` header substitution). */
  http_request: {
    params: {
      url: string;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
    };
    result: { status: number; headers: Record<string, string>; body: string };
  };
  /**
   * Opens an HTTP request whose response is read as it arrives (SSE,
   * NDJSON): decided once, exactly as `http_request` (manifest `net`, SSRF
   * policy, `{{secret:NAME}}` header values). The stream belongs to the
   * calling invoke and is closed when it ends; caps: `max_bytes` (default
   * 16 MiB, `ABI_STREAM_TOO_LARGE`), `timeout_ms` in total (default 5
   * minutes, `ABI_STREAM_TIMEOUT`), 8 open streams per capsule
   * (`ABI_STREAM_LIMIT`). Redirects are returned, not followed.
   */
  http_stream_open: {
    params: {
      url: string;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      timeout_ms?: number;
      max_bytes?: number;
    };
    result: {
      stream_id: string;
      status: number;
      headers: Record<string, string>;
    };
  };
  /**
   * The next piece of an open stream's body as UTF-8 (`""` when the bytes so
   * far end inside a character), waiting for it; `done` at the end. A
   * failed stream (cap, cut connection) is closed and its id forgotten.
   */
  http_stream_read: {
    params: { stream_id: string };
    result: { chunk: string; done: boolean };
  };
  /** Closes an open stream (`NOT_FOUND` when it is not this invoke's). */
  http_stream_close: { params: { stream_id: string }; result: { ok: true } };
  /** Runs a process (manifest `host_process`) in a sandbox over the session overlay, with an environment of its own. */
  process_spawn: {
    params: {
      cmd: string;
      args?: string[];
      stdin?: string;
      timeout_ms?: number;
    };
    result: {
      exit_code: number;
      stdout: string;
      stderr: string;
      /** `"bubblewrap"`, or `"none"` when config allowed an unsandboxed run. */
      sandbox: "bubblewrap" | "none";
      /**
       * What the process changed, as applied to the session overlay (each
       * path gated like `fs_write`/`fs_unlink`); absent when unsandboxed.
       */
      overlay?: {
        written: string[];
        deleted: string[];
        created: string[];
        refused: { path: string; code: string; message: string }[];
        skipped: { path: string; why: string }[];
      };
    };
  };
  /**
   * Runs a sub-agent: a turn of the orchestrator in a session of its own,
   * for the calling agent. Decided like an `ipc_request` on `user.v1.prompt`
   * (the capsule's `ipc_publish` must cover it). The kernel makes the child
   * one level deeper (refused past the depth limit, `AGENT_DEPTH_EXCEEDED`),
   * narrows its tools to those asked for AND held by the parent (a call to
   * any other tool is refused by the kernel), charges its model use to the
   * session and stops it past `budget_usd` (`BUDGET_EXCEEDED`); its writes
   * land in the same session overlay; every audit entry names the child.
   */
  agent_delegate: {
    params: {
      prompt: string;
      tools?: string[];
      max_iterations?: number;
      budget_usd?: number;
      timeout_ms?: number;
    };
    result: {
      text: string;
      usage: { input_tokens: number; output_tokens: number };
      iterations: number;
      agent: string;
    };
  };
  /**
   * Asks the human to approve something the capsule is about to do. Needs
   * `[capabilities] approval = true`; rate-limited per capsule
   * (`ABI_RATE_LIMITED`); the request and the answer are audited.
   */
  approval_request: {
    params: {
      action: string;
      resource: string;
      risk_level?: "low" | "medium" | "high" | "critical";
    };
    result: { approved: boolean; decision: string };
  };
  /** Reads a non-secret config value of the capsule (`[env]`). */
  config_get: { params: { key: string }; result: { value: string | null } };
  /** Tells whether a secret is set (never returns it). */
  secret_exists: { params: { key: string }; result: { exists: boolean } };
  /** Writes to the capsule log. */
  log: {
    params: { level: "debug" | "info" | "warn" | "error"; message: string };
    result: { ok: true };
  };
  /** The current time in ms since the epoch. */
  clock_now: { params: Record<string, never>; result: { now_ms: number } };
  /**
   * Waits `ms` (at most 60 000) on the kernel's clock: the guest has no
   * timers (e.g. a backoff before a retry). Ends with `ABORTED` when the
   * action call does.
   */
  clock_sleep: { params: { ms: number }; result: { ok: true } };
  /** Who the current call runs for. */
  identity: {
    params: Record<string, never>;
    result: { principal: string; session: string; capsule: string };
  };
  /**
   * Asks the human for a value (text, select, secret). `key` must be declared
   * in the manifest's `[env]` (`type = "secret"` for a secret, whose answer
   * the kernel stores and never returns); audited before the human is asked.
   */
  elicit: {
    params: {
      type: "text" | "select" | "secret";
      key: string;
      description?: string;
      options?: string[];
    };
    result: { value: string | null };
  };
}

/** A host function name. */
export type HostFunctionName = keyof HostFunctions;

/** The parameters of host function `N`. */
export type HostParams<N extends HostFunctionName> = HostFunctions[N]["params"];

/** The result of host function `N`. */
export type HostResult<N extends HostFunctionName> = HostFunctions[N]["result"];

/**
 * Every host function name, for validation.
 *
 * @example Check a name
 * ```ts
 * import { HOST_FUNCTION_NAMES } from "./host_abi.ts";
 * console.assert(HOST_FUNCTION_NAMES.includes("fs_read"));
 * ```
 */
export const HOST_FUNCTION_NAMES: readonly HostFunctionName[] = Object.freeze(
  [
    "fs_read",
    "fs_write",
    "fs_exists",
    "fs_readdir",
    "fs_stat",
    "fs_mkdir",
    "fs_unlink",
    "ipc_publish",
    "ipc_request",
    "kv_get",
    "kv_set",
    "kv_delete",
    "kv_list_keys",
    "http_request",
    "http_stream_open",
    "http_stream_read",
    "http_stream_close",
    "process_spawn",
    "approval_request",
    "config_get",
    "secret_exists",
    "log",
    "clock_now",
    "clock_sleep",
    "identity",
    "elicit",
    "agent_delegate",
  ] as const,
);

/** Payload limits of the host ABI (reference §5.1), in bytes. */
export const HOST_LIMITS: Readonly<
  { payload: number; path: number; key: number; log: number; topic: number }
> = Object.freeze({
  payload: 10 * 1024 * 1024,
  path: 4096,
  key: 4096,
  log: 64 * 1024,
  topic: 256,
});
