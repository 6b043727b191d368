/**
 * Sensitive actions: everything a capsule can ask the kernel to do that has a
 * side effect. Each action has a risk level, a human summary and — where a
 * capability token can pre-authorise it — a (resource, permission) mapping.
 *
 * Wire form: JSON tagged by `type`, snake_case fields (reference §6.2).
 *
 * @module
 */

/** How dangerous an action is; drives approval and display. */
export type RiskLevel = "low" | "medium" | "high" | "critical";

import type { Permission } from "../capability/permission.ts";

/** Permissions a capability token can carry (reference §6.4); defined once, in kernel/capability. */
export type { Permission };

/** A permission check that Deno's broker forwards from an MCP subprocess. */
export type DenoPermission =
  | "read"
  | "write"
  | "net"
  | "env"
  | "run"
  | "ffi"
  | "sys"
  | "import";

/** Every sensitive action. */
export type Action =
  | { readonly type: "file_read"; readonly path: string }
  | { readonly type: "file_write"; readonly path: string }
  | { readonly type: "file_delete"; readonly path: string }
  | {
    readonly type: "execute_command";
    readonly command: string;
    readonly args: readonly string[];
  }
  | {
    readonly type: "network_request";
    readonly host: string;
    readonly port: number;
  }
  | {
    readonly type: "transmit_data";
    readonly destination: string;
    readonly data_type: string;
  }
  | {
    readonly type: "financial_transaction";
    readonly amount: string;
    readonly recipient: string;
  }
  | {
    readonly type: "access_control_change";
    readonly resource: string;
    readonly change: string;
  }
  | {
    readonly type: "capability_grant";
    readonly resource_pattern: string;
    readonly permissions: readonly Permission[];
  }
  | {
    readonly type: "mcp_tool_call";
    readonly server: string;
    readonly tool: string;
    /**
     * Lower-case hex BLAKE3-256 of the canonical JSON of the arguments,
     * computed by the engine. Informational: recorded in the audit entry,
     * never matched; a malformed value blocks the call.
     */
    readonly args_hash?: string;
    /**
     * The capsule that asked for the call over the bus (the publisher of
     * `tool.v1.execute.<name>`), when it was not the MCP capsule itself.
     * Informational: recorded in the audit entry, never matched.
     */
    readonly requested_by?: string;
  }
  | {
    /** An MCP server's resource, read for the agent. */
    readonly type: "mcp_resource_read";
    readonly server: string;
    /** The resource URI (untrusted; see `mcp_request.ts` for its limits). */
    readonly uri: string;
  }
  | {
    /** An MCP server's prompt template, fetched for the agent. */
    readonly type: "mcp_prompt_get";
    readonly server: string;
    readonly name: string;
  }
  | {
    /** An MCP server asks the human for input: a form, or a URL to open. */
    readonly type: "mcp_elicitation";
    readonly server: string;
    readonly mode: "form" | "url";
    /** What the server says it needs (at most 4096 characters). */
    readonly message: string;
    /** The http(s) URL to open; present in `url` mode only. */
    readonly url?: string;
  }
  | {
    /** An MCP server asks the active LLM provider to generate text. */
    readonly type: "mcp_sampling";
    readonly server: string;
    /** The most tokens the server asked for (1 to 1_000_000). */
    readonly max_tokens: number;
    /** The model the server prefers, if it named one. */
    readonly model?: string;
    /** Characters of the prompt (system prompt and messages). */
    readonly prompt_chars: number;
  }
  | {
    readonly type: "capsule_execution";
    readonly capsule_id: string;
    readonly capability: string;
  }
  | {
    /**
     * An external MCP host (through `astrid mcp serve`, the tool gateway)
     * calls the tool `tool` that capsule `capsule_id` offers in a session.
     * Decided before the capsule sees the call; the tool's own effects are
     * then gated as usual.
     */
    readonly type: "mcp_host_tool_call";
    readonly capsule_id: string;
    readonly tool: string;
    /**
     * Lower-case hex BLAKE3-256 of the canonical JSON of the arguments.
     * Informational: recorded in the audit entry, never matched; a
     * malformed value blocks the call.
     */
    readonly args_hash?: string;
  }
  | {
    readonly type: "capsule_http_request";
    readonly capsule_id: string;
    readonly url: string;
    readonly method: string;
  }
  | {
    readonly type: "capsule_file_access";
    readonly capsule_id: string;
    readonly path: string;
    readonly mode: "read" | "write" | "delete";
  }
  | { readonly type: "capsule_net_bind"; readonly capsule_id: string }
  | {
    readonly type: "capsule_process_spawn";
    readonly capsule_id: string;
    readonly command: string;
    readonly args: readonly string[];
    /**
     * `"none"`: no sandbox is available and config allows the process to
     * run unconfined (`security.allow_unsandboxed_spawn`) — the decision
     * entry records that exception. Absent: it runs in the sandbox.
     */
    readonly sandbox?: "none";
  }
  | {
    readonly type: "mcp_permission_check";
    readonly server: string;
    readonly permission: DenoPermission;
    readonly value: string | null;
  }
  | {
    readonly type: "overlay_commit";
    readonly session_id: string;
    readonly paths: readonly string[];
  }
  | {
    readonly type: "secret_use";
    readonly capsule_id: string;
    readonly name: string;
    readonly host: string;
  };

/** The `type` tag of an action. */
export type ActionType = Action["type"];

/** The action variant with a given tag. */
export type ActionOf<T extends ActionType> = Extract<Action, { type: T }>;
