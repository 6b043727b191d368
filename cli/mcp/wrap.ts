/**
 * `astrid mcp wrap [options] -- <command> [args]`: a confining proxy for any
 * existing MCP server. The server becomes an ordinary MCP capsule — the same
 * Deno flags, permission broker and bubblewrap confinement, the same gate,
 * budgets and signed audit chain as any installed capsule — and the protocol
 * is relayed to the MCP host on stdio by `astrid mcp serve`'s `serveMcp`,
 * limited to that one capsule.
 *
 * Security model (consent): nothing is installed with grants nobody
 * approved. `--install-only`, run once in a terminal, shows the grants (and
 * where the manifest is, for review) and asks; without a terminal it needs
 * `--yes`, the operator's explicit approval on the command line. The
 * host-launched form (no `--install-only`) never installs: it refuses,
 * exit 1, when the capsule is not installed, when its manifest or files
 * differ from the installed, approved record (compared by their pins), or
 * when boot would refuse the installed copy (a tampered install). stdout is
 * the MCP channel: everything else goes to stderr.
 *
 * @module
 */
import * as path from "node:path";
import {
  checkWrapManifest,
  compareWrapInstall,
  KernelError,
  wrapInventory,
} from "../../mod.ts";
import {
  type ApiClient,
  resolveAstridHome,
} from "../../kernel/api/client_kit.ts";
import { denoIo } from "../commands/command_io.ts";
import type { CommandIo } from "../commands/command_io.ts";
import { connectDaemon } from "../daemon_client.ts";
import type { GlobalFlags } from "../flags.ts";
import { hostLine, parseWrapArgs, type WrapArgs } from "./wrap_args.ts";
import { homeEnv, install, learn } from "./wrap_install.ts";
import { wrapSource } from "./wrap_source.ts";

export { parseWrapArgs, type WrapArgs } from "./wrap_args.ts";

/** Help text of `astrid mcp wrap`. */
export const WRAP_HELP =
  `astrid mcp wrap — run any MCP server confined, gated and audited by Astrid

Usage:
  astrid mcp wrap --install-only [options] -- <command> [args]
      Once, in a terminal: turn the server into a capsule and install it.
      Without --manifest a least-privilege Capsule.toml is generated from the
      command line and written to $ASTRID_HOME/wrap/<name>/Capsule.toml (its
      path is printed): an npm server ('npx -y <pkg>', 'npm:<pkg>',
      'deno run npm:<pkg>') may read exactly the paths named in its args
      (made absolute), nothing else; every permission check it makes is a
      gate decision (broker mode), audited. Shows the grants and asks
      (--yes approves without asking; without a terminal --yes is required).
      An unchanged install is reused; a running daemon restarts.

  astrid mcp wrap [options] -- <command> [args]
      What the MCP host runs (e.g. in .mcp.json): serves the wrapped server
      on stdio through the daemon — every call passes the gate, the budget
      and the audit chain. Refuses (exit 1) when the capsule is not
      installed or its manifest changed since it was approved: run the same
      line with --install-only in a terminal.

Options (before '--'):
  --manifest FILE    a reviewed Capsule.toml (or its directory) whose one
                     [[mcp_server]] runs exactly <command> [args]
  --env NAME         (generated) the server may read variable NAME (repeatable)
  --writable         (generated) the named paths are writable too
  --name NAME        (generated) the capsule name (default wrap-<pkg>-<hash>)
  --learn            (generated, with --install-only) run the server once under
                     a recording permission broker first — reads outside the
                     named paths, writes, network and processes denied — and
                     add the env names it read to the manifest (shown, asked)
  --install-only     install (asking first) and exit
  -y, --yes          approve the install without asking
  -w, --workspace DIR
                     the session's workspace (default: the current directory)

Exit codes: 0 ok, 1 failure (error[CODE] on stderr), 2 usage error.`;

/** `serveMcp` of `cli/mcp/serve.ts`, as wrap calls it. */
export type ServeMcp = (
  client: ApiClient,
  options: {
    transport: "stdio";
    workspace: string;
    capsules: readonly string[];
  },
  io: CommandIo,
) => Promise<number>;

/** What {@linkcode wrapCommand} talks to (tests pass their own). */
export interface WrapDeps {
  readonly io?: CommandIo;
  readonly env?: Readonly<Record<string, string>>;
  readonly connect?: (flags: GlobalFlags) => Promise<ApiClient>;
  readonly serve?: ServeMcp;
}

async function loadServe(): Promise<ServeMcp> {
  // The relay is `astrid mcp serve`'s, limited to the one capsule.
  const { serveMcp } = await import("./serve.ts");
  return serveMcp;
}

/**
 * Runs `astrid mcp wrap`.
 *
 * @param argv The arguments after `wrap` (the raw ones: `--` matters).
 * @param deps Terminal, environment, daemon and relay (default: the real ones).
 * @returns The exit code.
 * @throws {UsageError} See {@linkcode parseWrapArgs}.
 * @throws {KernelError} `MANIFEST_INVALID` (a command the engine refuses, a
 *   generated file that was edited), `APPROVAL_DENIED` (install not
 *   approved), `CAPSULE_NOT_FOUND` (not installed), `CAPSULE_INTEGRITY`
 *   (changed since approved, or tampered).
 */
export async function wrapCommand(
  argv: readonly string[],
  deps: WrapDeps = {},
): Promise<number> {
  const args = parseWrapArgs(argv);
  const io = deps.io ?? denoIo();
  if (args.help) {
    io.out(WRAP_HELP);
    return 0;
  }
  const env = deps.env ?? Deno.env.toObject();
  const workspace = await io.realPath(
    path.resolve(io.cwd, args.workspace ?? "."),
  );
  const home = resolveAstridHome({ get: (n: string) => env[n] });
  const learned = args.learn
    ? await learn(args, { io, workspace, home, env })
    : args;
  return await wrapWith(learned, { io, env, workspace, home, deps });
}

async function wrapWith(
  args: WrapArgs,
  o: {
    io: CommandIo;
    env: Readonly<Record<string, string>>;
    workspace: string;
    home: string;
    deps: WrapDeps;
  },
): Promise<number> {
  const { io, env, workspace, home, deps } = o;
  const source = await wrapSource(args.command, {
    cwd: io.cwd,
    wrapRoot: path.join(home, "wrap"),
    persist: args.installOnly,
    ...(env["HOME"] ? { home: env["HOME"] } : {}),
    ...(args.manifest ? { manifest: args.manifest } : {}),
    env: args.env,
    writable: args.writable,
    ...(args.name ? { name: args.name } : {}),
  });
  const temp = !args.installOnly && source.generated !== undefined;
  try {
    checkWrapManifest(source.toml, {
      file: path.join(source.dir, "Capsule.toml"),
      dir: source.dir,
    });
    if (args.installOnly) {
      return await install(args, source, {
        workspace,
        io,
        env,
      });
    }
    {
      const state = await compareWrapInstall(
        await wrapInventory({ env: homeEnv(env) }),
        source.dir,
      );
      const fix = `review and approve it in a terminal: ${
        hostLine(args, { workspace, first: ["--install-only"] })
      }`;
      if (state.state === "absent") {
        throw new KernelError(
          "CAPSULE_NOT_FOUND",
          `The wrapped server '${source.name}' is not installed; ${fix}`,
        );
      }
      if (state.state !== "same") {
        throw new KernelError(
          "CAPSULE_INTEGRITY",
          `The wrapped server '${source.name}' does not match what was approved (${state.reason}); ${fix}`,
        );
      }
    }
  } finally {
    if (temp) await Deno.remove(source.dir, { recursive: true });
  }
  const flags = { workspace } as GlobalFlags;
  const client = await (deps.connect ?? connectDaemon)(flags);
  try {
    const serve = deps.serve ?? await loadServe();
    return await serve(client, {
      transport: "stdio",
      workspace,
      capsules: [source.name],
    }, io);
  } finally {
    client.close();
  }
}
