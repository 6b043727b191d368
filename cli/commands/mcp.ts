/**
 * `astrid mcp serve`: Astrid as an MCP server for another agent or MCP host
 * (Claude Code, Claude Desktop, Cursor…). The protocol work is in
 * `cli/mcp/serve.ts`; this module parses the command line.
 *
 * @module
 */
import type { ApiClient } from "../../kernel/api/client_kit.ts";
import { resolve } from "../../kernel/api/client_kit.ts";
import type { GlobalFlags } from "../flags.ts";
import { UsageError } from "../output.ts";
import type { CommandIo } from "./command_io.ts";

/** The shortest bearer token accepted from `ASTRID_MCP_TOKEN`. */
const MIN_TOKEN = 24;

/** Help text of `astrid mcp`. */
export const MCP_HELP = `astrid mcp — Astrid in the MCP ecosystem

Usage:
  astrid mcp serve [--http [--port N] [--host H]] [--session ID] [--capsule NAME ...]
  astrid mcp wrap [--install-only [--learn] [--yes]] [--manifest FILE]
                  [--env NAME ...] [--writable] [-w DIR] -- <command> [args]

  serve                the tools of the installed capsules, as an MCP server
                       (protocol 2026-07-28 and 2025-11-25); stdio by default
    --http             Streamable HTTP at http://127.0.0.1:PORT/mcp instead
    --port N           the port (default 0: pick one, printed to stderr)
    --host H           the address (default 127.0.0.1; anything else is an
                       explicit choice to serve beyond loopback)
    --session ID       reuse a daemon session (its overlay, allowances, budget)
    --capsule NAME     only this capsule's tools (repeatable)
    -w, --workspace D  the workspace of a new session (default: here)

  wrap                 run any existing MCP server confined, gated and audited:
                       it becomes an installed MCP capsule (a least-privilege
                       manifest generated from its command line, or --manifest)
                       and is served like 'mcp serve --capsule'; see
                       'astrid mcp wrap --help'

Every call passes Astrid's gate, budget and signed audit chain before the
capsule sees it ([security.policy] blocked_tools / approval_required_tools
name "capsule:tool" or the capsule). An approval the gate asks for is put to
the host as an elicitation when it supports that, else it waits in
'astrid approvals' (or 'astrid chat') — never silently allowed.

HTTP: a bearer token is required on every request: ASTRID_MCP_TOKEN, else one
is generated and printed once to stderr. Host and Origin headers are checked
(DNS rebinding).

Claude Code (.mcp.json):
  {"mcpServers": {"astrid": {"command": "astrid", "args": ["mcp", "serve"]}}}`;

/**
 * Checks the command line of `astrid mcp` (before any daemon is started).
 *
 * @param args Arguments after `mcp`.
 * @param flags Global flags.
 * @param env The environment (`ASTRID_MCP_TOKEN`).
 * @returns The HTTP port (0 = pick).
 * @throws {UsageError} On an unknown subcommand or a bad flag value.
 */
export function checkMcpArgs(
  args: readonly string[],
  flags: GlobalFlags,
  env: Readonly<Record<string, string>> = {},
): number {
  const token = env["ASTRID_MCP_TOKEN"];
  if (token !== undefined && token !== "" && token.length < MIN_TOKEN) {
    throw new UsageError(
      `ASTRID_MCP_TOKEN must be at least ${MIN_TOKEN} characters (or unset: one is generated)`,
    );
  }
  const [sub, ...extra] = args;
  if (sub !== "serve" || extra.length > 0) {
    throw new UsageError(
      `Usage: astrid mcp serve [--http [--port N] [--host H]] [--session ID] [--capsule NAME ...]\n       astrid mcp wrap [options] -- <command> [args]`,
    );
  }
  if (!flags.http && (flags.port !== undefined || flags.host !== undefined)) {
    throw new UsageError("--port and --host need --http");
  }
  const port = flags.port === undefined ? 0 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError("--port must be a port number (0-65535)");
  }
  return port;
}

/**
 * Runs `astrid mcp <sub>`.
 *
 * @param client The daemon's API.
 * @param args Arguments after `mcp`.
 * @param flags Global flags (`--http`, `--port`, `--host`, `--session`, `--capsule`, `--workspace`).
 * @param io The terminal.
 * @param env The environment (`ASTRID_MCP_TOKEN`).
 * @returns The exit code.
 * @throws {UsageError} On an unknown subcommand or a bad flag value.
 */
export async function mcpCommand(
  client: ApiClient,
  args: readonly string[],
  flags: GlobalFlags,
  io: CommandIo,
  env: Readonly<Record<string, string>> = {},
): Promise<number> {
  const port = checkMcpArgs(args, flags, env);
  const { serveMcp } = await import("../mcp/serve.ts");
  const workspace = await io.realPath(resolve(io.cwd, flags.workspace ?? "."));
  const token = env["ASTRID_MCP_TOKEN"];
  return await serveMcp(client, {
    transport: flags.http ? "http" : "stdio",
    workspace,
    ...(flags.http ? { port } : {}),
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    ...(flags.session !== undefined ? { session: flags.session } : {}),
    ...(flags.capsules.length > 0 ? { capsules: flags.capsules } : {}),
    ...(token ? { token } : {}),
    ...(io.interrupt ? { signal: io.interrupt } : {}),
  }, io);
}
