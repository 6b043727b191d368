/**
 * The typed shape of Astrid's effective configuration and the dotted key
 * names derived from it. The data-driven table in `schema.ts` must describe
 * exactly these keys (a test checks both directions).
 *
 * Field names are snake_case because they are the TOML keys users write.
 *
 * @module
 */

/** How much the agent may do without asking; lower is stricter. */
export type WorkspaceMode = "safe" | "guided" | "autonomous" | "yolo";
/** What happens to actions outside the workspace in `safe`/`guided`; lower is stricter. */
export type EscapePolicy = "deny" | "ask" | "allow";
/** Minimum severity that is logged. */
export type ConfigLogLevel = "debug" | "info" | "warn" | "error";
/** How log records are rendered. */
export type ConfigLogFormat = "compact" | "pretty" | "json";

/** `[model]`: the default LLM. */
export interface ModelConfig {
  /** Provider capsule id, e.g. `"anthropic"`; `"unknown"` when unset. */
  readonly "provider": string;
  /** Model name passed to the provider. */
  readonly "model": string;
  /** Maximum output tokens per request. */
  readonly "max_tokens": number;
  /** Sampling temperature (0–2). */
  readonly "temperature": number;
  /** What the kernel charges the budget per million prompt tokens a provider reports, in USD. */
  readonly "input_usd_per_mtok": number;
  /** What the kernel charges the budget per million completion tokens, in USD. */
  readonly "output_usd_per_mtok": number;
  /** Base URL override; `""` means the provider's default. Never set by a workspace. */
  readonly "api_url": string;
  /** API key; `""` means none. Secret: redacted by `entries()`. Never set by a workspace. */
  readonly "api_key": string;
}

/** `[security.policy]`: admin hard limits checked before anything else. */
export interface SecurityPolicyConfig {
  /** Command prefixes that are never run (argv-aware matching is the gate's job). */
  readonly "blocked_commands": readonly string[];
  /** MCP tools (`server:tool`, `server` or `tool`) that are never called. */
  readonly "blocked_tools": readonly string[];
  /** MCP tools that always need approval. */
  readonly "approval_required_tools": readonly string[];
  /** Capsules whose actions are always denied. */
  readonly "blocked_capsules": readonly string[];
  /** Path globs that are never read or written. */
  readonly "denied_paths": readonly string[];
  /** Host names that are never contacted (exact match). */
  readonly "denied_hosts": readonly string[];
  /** When non-empty, only these path globs may be touched; empty means no restriction. */
  readonly "allowed_paths": readonly string[];
  /** When non-empty, only these hosts may be contacted; empty means no restriction. */
  readonly "allowed_hosts": readonly string[];
  /** Maximum summed argument bytes of a command; `0` means unlimited. */
  readonly "max_argument_size": number;
  /** Deleting a file always needs approval. */
  readonly "require_approval_for_delete": boolean;
  /** Network requests always need approval. */
  readonly "require_approval_for_network": boolean;
}

/** `[security]`. */
export interface SecurityConfig {
  /** Capsules must be signed. */
  readonly "require_signatures": boolean;
  /** Seconds a pending approval waits for a human before it is deferred. */
  readonly "approval_timeout_secs": number;
  /** Whether private, link-local and metadata addresses may be contacted. */
  readonly "allow_private_networks": boolean;
  /**
   * Whether `process_spawn` may run a process without a sandbox when none
   * is available (each such spawn is an audited gate decision marked
   * `sandbox: "none"`). Default `false`: refused with `SANDBOX_UNAVAILABLE`.
   */
  readonly "allow_unsandboxed_spawn": boolean;
  /** Lifetime of the token minted by an "Allow Always" approval, in seconds. */
  readonly "always_token_ttl_secs": number;
  /** Admin hard limits. */
  readonly "policy": SecurityPolicyConfig;
}

/** `[budget]`, in US dollars. */
export interface BudgetConfig {
  /** Spending cap of one session. */
  readonly "session_max_usd": number;
  /** Cap of a single action. */
  readonly "per_action_max_usd": number;
  /** Cap of everything spent in one workspace; absent means uncapped. */
  readonly "workspace_max_usd"?: number;
  /** Warn when this percentage of the session cap is reached (0–100). */
  readonly "warn_at_percent": number;
}

/** `[workspace]`. */
export interface WorkspaceConfig {
  /** The approval mode. */
  readonly "mode": WorkspaceMode;
  /** Policy for actions outside the workspace. */
  readonly "escape_policy": EscapePolicy;
  /** Path prefixes outside the workspace that are read without asking. */
  readonly "auto_allow_read": readonly string[];
  /**
   * Directories (absolute) the daemon may read and write as workspaces,
   * besides the one it was started for: its scoped Deno permissions cover
   * only these, `ASTRID_HOME` and Deno's cache.
   */
  readonly "roots": readonly string[];
  /** Path prefixes outside the workspace that are written without asking. */
  readonly "auto_allow_write": readonly string[];
  /** Path prefixes that are never touched, whatever the mode. */
  readonly "never_allow": readonly string[];
}

/** `[rate_limits]`. */
export interface RateLimitsConfig {
  /** Elicitation requests per server per minute. */
  readonly "elicitation_per_minute": number;
  /** Pending elicitation requests at most. */
  readonly "max_pending_elicitations": number;
}

/** `[timeouts]`, in seconds. */
export interface TimeoutsConfig {
  /** One LLM request. */
  readonly "request_secs": number;
  /** One tool call. */
  readonly "tool_secs": number;
  /** Connecting to an MCP server. */
  readonly "mcp_connect_secs": number;
  /** Waiting for a human's approval. */
  readonly "approval_secs": number;
  /** Idle time before an ephemeral daemon shuts down. */
  readonly "idle_secs": number;
}

/** `[audit]`. */
export interface AuditConfig {
  /** Size of the audit log kept, in MiB. */
  readonly "max_size_mb": number;
}

/** `[logging]`. */
export interface LoggingConfig {
  /** Minimum level. */
  readonly "level": ConfigLogLevel;
  /** Output format. */
  readonly "format": ConfigLogFormat;
}

/** `[subagents]`. */
export interface SubagentsConfig {
  /** Sub-agents running at once. */
  readonly "max_concurrent": number;
  /** Nesting depth of sub-agents. */
  readonly "max_depth": number;
  /** Wall-clock limit of one sub-agent, in seconds. */
  readonly "timeout_secs": number;
}

/** `[retry]`. */
export interface RetryConfig {
  /** Attempts per LLM request. */
  readonly "llm_max_attempts": number;
  /** Attempts per MCP call. */
  readonly "mcp_max_attempts": number;
  /** First back-off delay. */
  readonly "initial_delay_ms": number;
  /** Largest back-off delay. */
  readonly "max_delay_ms": number;
}

/** `[store]`. */
export interface StoreConfig {
  /**
   * Where the kernel's state lives: `""` for the embedded Deno KV file, or a
   * `postgres://user@host:port/db` URL without a password (which comes from
   * `ASTRID_STORE_PASSWORD` or `ASTRID_HOME/keys/store.password`).
   */
  readonly "url": string;
}

/** `[cluster]`. */
export interface ClusterConfig {
  /**
   * The NATS server(s) that carry events between the nodes: `""` (one node,
   * events stay in the process) or `nats://host:port` URLs, comma-separated,
   * without user or password (a token comes from `ASTRID_NATS_TOKEN` or
   * `ASTRID_HOME/keys/nats.token`).
   */
  readonly "nats_url": string;
  /**
   * This node's id; `""` = generated once and kept in
   * `ASTRID_HOME/var/node_id`.
   */
  readonly "node_id": string;
  /**
   * A directory on storage every node mounts, holding the session overlays
   * (`""` = under each node's own `ASTRID_HOME`: sessions cannot move).
   */
  readonly "overlay_root": string;
  /** How long a node's claim on a session (and its heartbeat) lasts unrenewed. */
  readonly "lease_secs": number;
  /**
   * After how long unused a node offers a session to the other nodes
   * (`0` = keep it until this node stops).
   */
  readonly "session_idle_secs": number;
}

/** `[sessions]`. */
export interface SessionsConfig {
  /**
   * Idle sessions a daemon keeps booted (the most recently used); the others
   * are closed and boot again on their next use, history and overlay kept.
   */
  readonly "keep_booted": number;
}

/** The whole effective configuration. */
export interface AstridConfig {
  /** `[model]`. */
  readonly "model": ModelConfig;
  /** `[security]` and `[security.policy]`. */
  readonly "security": SecurityConfig;
  /** `[budget]`. */
  readonly "budget": BudgetConfig;
  /** `[workspace]`. */
  readonly "workspace": WorkspaceConfig;
  /** `[rate_limits]`. */
  readonly "rate_limits": RateLimitsConfig;
  /** `[timeouts]`. */
  readonly "timeouts": TimeoutsConfig;
  /** `[audit]`. */
  readonly "audit": AuditConfig;
  /** `[logging]`. */
  readonly "logging": LoggingConfig;
  /** `[subagents]`. */
  readonly "subagents": SubagentsConfig;
  /** `[retry]`. */
  readonly "retry": RetryConfig;
  /** `[store]`. */
  readonly "store": StoreConfig;
  /** `[cluster]`. */
  readonly "cluster": ClusterConfig;
  /** `[sessions]`. */
  readonly "sessions": SessionsConfig;
}

/** A leaf value of the configuration. */
export type ConfigValue =
  | string
  | number
  | boolean
  | readonly string[]
  | undefined;

/** The dotted leaf paths of `T`, e.g. `"budget.session_max_usd"`. */
export type LeafPaths<T, P extends string = ""> = {
  [K in keyof T & string]-?: T[K] extends ConfigValue ? `${P}${K}`
    : LeafPaths<T[K], `${P}${K}.`>;
}[keyof T & string];

/** The value type at dotted path `K` of `T`. */
export type PathValue<T, K extends string> = K extends `${infer H}.${infer R}`
  ? H extends keyof T ? PathValue<T[H], R> : never
  : K extends keyof T ? T[K]
  : never;

/** Every configuration key, e.g. `"workspace.mode"`. */
export type ConfigKey = LeafPaths<AstridConfig>;

/** The value type of configuration key `K`. */
export type ConfigValueOf<K extends ConfigKey> = PathValue<AstridConfig, K>;
