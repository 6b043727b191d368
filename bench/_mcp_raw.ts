/**
 * Bench helper: the `everything` MCP server from npm, its capsule manifest
 * for the engine's flags mode, and the raw SDK client (the baseline of every
 * MCP row): `Client.callTool()` over `StdioClientTransport`, talking to the
 * same server with the same Deno flags.
 *
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CapsuleId } from "../kernel/core/ids.ts";
import {
  EVERYTHING_ENV,
  npmServer,
  SERVERS,
} from "../tests/mcp_fixture_test.ts";

/** The pinned `everything` server's npm specifier. */
export const EVERYTHING_NPM = `npm:${SERVERS.everything}`;

/** The capsule name of {@linkcode everythingToml}. */
export const EVERYTHING_CAPSULE = "every-flags" as CapsuleId;

/** The arguments of the `echo` tool every MCP row calls. */
export const ECHO = { message: "hi" };

/**
 * Runs `deno <args>` (stdin closed) and returns its stdout.
 *
 * @param args The arguments.
 * @returns What it printed.
 * @throws {Error} With its stderr when it fails.
 */
export async function deno(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args, stdin: "null" })
    .output();
  const text = new TextDecoder();
  if (out.success) return text.decode(out.stdout);
  throw new Error(`deno ${args[0]} failed: ${text.decode(out.stderr)}`);
}

/**
 * A capsule manifest declaring the env names the `everything` server reads.
 *
 * @param name The capsule's name.
 * @param server Its `[[mcp_server]]` table.
 * @param caps Its capability lines.
 * @returns The manifest.
 */
export function capsuleToml(
  name: string,
  server: string,
  caps: readonly string[],
): string {
  const env = EVERYTHING_ENV.map((k) =>
    `[env.${k}]\ntype = "string"\ndefault = ""`
  );
  return `[package]\nname = "${name}"\nversion = "1.0.0"\n[capabilities]\n${
    caps.join("\n")
  }\n${env.join("\n")}\n\n${server}`;
}

/** The manifest of the `everything` server as a flags-mode MCP capsule. */
export function everythingToml(): string {
  const s = npmServer("everything", SERVERS.everything, { mode: "flags" });
  return capsuleToml(EVERYTHING_CAPSULE, s.server, [s.host]);
}

/**
 * The raw server's `deno` arguments for a module (same flags as the
 * engine's flags mode).
 *
 * @param entry The npm specifier or a bundled file.
 * @returns The arguments.
 */
export function serverArgs(entry: string): string[] {
  return [
    ..."run --no-prompt --cached-only --no-config".split(" "),
    `--allow-env=${EVERYTHING_ENV.join(",")}`,
    entry,
  ];
}

/**
 * The raw server's environment: the cache `deno` was given, nothing else.
 *
 * @param denoDir The Deno cache directory.
 * @returns The environment.
 */
export function serverEnv(denoDir: string): Record<string, string> {
  return { DENO_DIR: denoDir, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
}

/** The raw server command line (same flags as the engine's flags mode). */
export async function everythingCommand(): Promise<{
  readonly env: Record<string, string>;
  readonly args: string[];
}> {
  await deno(["cache", "--no-config", EVERYTHING_NPM]);
  const denoDir = String(JSON.parse(await deno(["info", "--json"])).denoDir);
  return {
    env: serverEnv(denoDir),
    args: serverArgs(EVERYTHING_NPM),
  };
}

/**
 * Connects the raw SDK client to a fresh `everything` server.
 *
 * @param cmd From {@linkcode everythingCommand}.
 * @param cwd The server's working directory.
 * @returns The client (close it to end the server).
 */
export async function startRawClient(
  cmd: { readonly env: Record<string, string>; readonly args: string[] },
  cwd: string,
): Promise<Client> {
  const raw = new Client({ name: "bench", version: "0" });
  await raw.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: cmd.args,
      env: cmd.env,
      cwd,
      stderr: "ignore",
    }),
  );
  return raw;
}
