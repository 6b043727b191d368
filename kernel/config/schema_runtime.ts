/**
 * Schema rows of the runtime sections: `[rate_limits]`, `[timeouts]`,
 * `[audit]`, `[logging]`, `[store]`, `[cluster]`, `[sessions]`, `[subagents]` and `[retry]` (defaults from
 * reference §9.2).
 *
 * @module
 */
import { DAY_SECS, row, secs } from "./_schema_row.ts";
import type { ConfigValue } from "./astrid_config.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

/**
 * Rows of `[rate_limits]`, `[timeouts]`, `[audit]`, `[logging]`, `[subagents]`, `[retry]`.
 *
 * @example The audit size may only grow from a workspace
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUNTIME_SCHEMA } from "./schema_runtime.ts";
 * assert.equal(RUNTIME_SCHEMA.find((r) => r.key === "audit.max_size_mb")?.tighten, "increase");
 * ```
 */
export const RUNTIME_SCHEMA: readonly ConfigKeySpec[] = Object.freeze([
  // [rate_limits]
  row(
    "rate_limits.elicitation_per_minute",
    "integer",
    10,
    "decrease",
    "Elicitations/server/min",
    {
      min: 1,
      max: 10_000,
    },
  ),
  row(
    "rate_limits.max_pending_elicitations",
    "integer",
    50,
    "decrease",
    "Pending elicitations",
    {
      min: 1,
      max: 10_000,
    },
  ),
  // [timeouts]
  row(
    "timeouts.request_secs",
    "integer",
    120,
    "none",
    "LLM request timeout",
    secs(1, DAY_SECS),
  ),
  row(
    "timeouts.tool_secs",
    "integer",
    60,
    "none",
    "Tool call timeout",
    secs(1, DAY_SECS),
  ),
  row(
    "timeouts.mcp_connect_secs",
    "integer",
    10,
    "none",
    "MCP connect timeout",
    secs(1, 3600),
  ),
  row(
    "timeouts.approval_secs",
    "integer",
    300,
    "decrease",
    "Approval timeout",
    secs(1, DAY_SECS),
  ),
  row(
    "timeouts.idle_secs",
    "integer",
    3600,
    "decrease",
    "Idle shutdown",
    secs(1, 7 * DAY_SECS),
  ),
  // [audit]
  row(
    "audit.max_size_mb",
    "integer",
    100,
    "increase",
    "Audit log size kept (MiB)",
    {
      min: 1,
      max: 1_000_000,
    },
  ),
  // [logging]
  row("logging.level", "enum", "info", "none", "Minimum log level", {
    values: ["debug", "info", "warn", "error"],
    env: "ASTRID_LOG_LEVEL",
  }),
  row("logging.format", "enum", "compact", "none", "Log format", {
    values: ["compact", "pretty", "json"],
    env: "ASTRID_LOG_FORMAT",
  }),
  // [store]
  row(
    "store.url",
    "string",
    "",
    "forbidden",
    "Store ('' = embedded Deno KV; postgres://user@host/db)",
    // Secret: a mistyped URL may carry a password, so it is never echoed.
    { env: "ASTRID_STORE_URL", check: storeUrl, secret: true },
  ),
  // [cluster]
  row(
    "cluster.nats_url",
    "string",
    "",
    "forbidden",
    "NATS servers ('' = one node; nats://host:port, comma-separated)",
    // Secret: a mistyped URL may carry a token or password; never echoed.
    { env: "ASTRID_NATS_URL", check: natsUrl, secret: true },
  ),
  row(
    "cluster.node_id",
    "string",
    "",
    "forbidden",
    "This node's id ('' = generated once, kept in ASTRID_HOME/var/node_id)",
    { env: "ASTRID_NODE_ID", check: nodeId },
  ),
  row(
    "cluster.overlay_root",
    "string",
    "",
    "forbidden",
    "Session overlays on storage all nodes mount ('' = in ASTRID_HOME: sessions stay on their node)",
    { env: "ASTRID_OVERLAY_ROOT", check: absoluteOrEmpty },
  ),
  row(
    "cluster.lease_secs",
    "integer",
    15,
    "forbidden",
    "How long a node's session lease and heartbeat last unrenewed",
    { min: 1, max: 3_600, env: "ASTRID_CLUSTER_LEASE_SECS" },
  ),
  row(
    "cluster.session_idle_secs",
    "integer",
    60,
    "forbidden",
    "After how long unused a node offers a session to the other nodes (0 = keep it until the node stops)",
    { min: 0, max: 86_400, env: "ASTRID_CLUSTER_SESSION_IDLE_SECS" },
  ),
  // [sessions]
  row(
    "sessions.keep_booted",
    "integer",
    8,
    "forbidden",
    "Idle sessions a daemon keeps booted; the least recently used beyond it are closed and boot again on their next use (history and overlay kept)",
    { min: 0, max: 1_024, env: "ASTRID_SESSIONS_KEEP_BOOTED" },
  ),
  // [subagents]
  row(
    "subagents.max_concurrent",
    "integer",
    5,
    "decrease",
    "Sub-agents at once",
    {
      min: 1,
      max: 64,
      env: "ASTRID_SUBAGENT_MAX_CONCURRENT",
    },
  ),
  row(
    "subagents.max_depth",
    "integer",
    3,
    "decrease",
    "Sub-agent nesting depth",
    {
      min: 0,
      max: 16,
      env: "ASTRID_SUBAGENT_MAX_DEPTH",
    },
  ),
  row(
    "subagents.timeout_secs",
    "integer",
    300,
    "decrease",
    "Sub-agent time limit",
    {
      ...secs(1, DAY_SECS),
      env: "ASTRID_SUBAGENT_TIMEOUT_SECS",
    },
  ),
  // [retry]
  row(
    "retry.llm_max_attempts",
    "integer",
    3,
    "decrease",
    "Attempts per LLM request",
    {
      min: 1,
      max: 100,
      env: "ASTRID_RETRY_LLM_MAX_ATTEMPTS",
    },
  ),
  row(
    "retry.mcp_max_attempts",
    "integer",
    5,
    "decrease",
    "Attempts per MCP call",
    {
      min: 1,
      max: 100,
      env: "ASTRID_RETRY_MCP_MAX_ATTEMPTS",
    },
  ),
  row(
    "retry.initial_delay_ms",
    "integer",
    100,
    "none",
    "First back-off delay",
    {
      min: 0,
      max: 600_000,
      env: "ASTRID_RETRY_INITIAL_DELAY_MS",
    },
  ),
  row(
    "retry.max_delay_ms",
    "integer",
    10_000,
    "none",
    "Largest back-off delay",
    {
      min: 0,
      max: 3_600_000,
      env: "ASTRID_RETRY_MAX_DELAY_MS",
    },
  ),
]);

/** `""` or a `postgres://` URL that carries no password. */
function storeUrl(value: ConfigValue): string | undefined {
  if (value === "") return undefined;
  const expected =
    "'' or a postgres:// URL without a password (set ASTRID_STORE_PASSWORD)";
  if (typeof value !== "string" || !URL.canParse(value)) return expected;
  const url = new URL(value);
  const scheme = url.protocol === "postgres:" || url.protocol === "postgresql:";
  return scheme && url.password === "" ? undefined : expected;
}

/**
 * `""` or comma-separated `nats://` / `tls://` URLs with a host and no user
 * or password (NATS reads a token from the user part, so none is allowed).
 */
function natsUrl(value: ConfigValue): string | undefined {
  if (value === "") return undefined;
  const expected =
    "'' or nats://host:port URLs without user or password (set ASTRID_NATS_TOKEN)";
  if (typeof value !== "string") return expected;
  for (const part of value.split(",")) {
    if (!URL.canParse(part.trim())) return expected;
    const url = new URL(part.trim());
    const scheme = url.protocol === "nats:" || url.protocol === "tls:";
    const bare = url.username === "" && url.password === "" &&
      url.hostname !== "" && (url.pathname === "" || url.pathname === "/") &&
      url.search === "" && url.hash === "";
    if (!scheme || !bare) return expected;
  }
  return undefined;
}

/** `""` or a node id: 1–63 of `[A-Za-z0-9_-]`, starting with a letter or digit. */
function nodeId(value: ConfigValue): string | undefined {
  return value === "" ||
      (typeof value === "string" &&
        /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(value))
    ? undefined
    : "'' or 1-63 letters, digits, '_' or '-' (starting with a letter or digit; no '.': a NATS subject token)";
}

/** `""` or an absolute path. */
function absoluteOrEmpty(value: ConfigValue): string | undefined {
  return value === "" || (typeof value === "string" && value.startsWith("/"))
    ? undefined
    : "'' or an absolute path";
}
