/**
 * Bench helper: one MCP server as a Deno child process, spoken to by the
 * engine's own MCP client (`connectMcpClient`) — the "adapter" path both MCP
 * benches compare with the raw SDK client.
 *
 * @module
 */
import { createDenoSpawner } from "../kernel/host/deno_spawner.ts";
import { connectMcpClient } from "../kernel/capsule/engines/mcp/client/mcp_client.ts";
import type { McpClientSession } from "../kernel/capsule/engines/mcp/client/mcp_types.ts";

/** A connected adapter and how to stop its server. */
export interface AdapterChild {
  readonly adapter: McpClientSession;
  /** Closes the client, ends the server, drains its stderr. */
  close(): Promise<void>;
}

/**
 * Starts `deno <args>` in `cwd` with exactly `env` and connects the engine's
 * MCP client to it over stdio.
 *
 * @param cmd The `deno` arguments and environment of the server.
 * @param cwd Its working directory.
 * @returns The adapter and its `close`.
 */
export async function startAdapterChild(
  cmd: { readonly args: string[]; readonly env: Record<string, string> },
  cwd: string,
): Promise<AdapterChild> {
  const child = createDenoSpawner().spawn(Deno.execPath(), {
    args: cmd.args,
    env: cmd.env,
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const childErr = child.stderr!.pipeTo(new WritableStream());
  const adapter = await connectMcpClient({
    stdin: child.stdin!,
    stdout: child.stdout!,
  });
  return {
    adapter,
    async close() {
      await adapter.close();
      child.kill("SIGTERM");
      await child.status;
      await childErr;
    },
  };
}
