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
  installBuiltCapsule,
  KernelError,
  learnServerNeeds,
  startKernel,
  wrapInventory,
} from "../../mod.ts";
import {
  type ApiClient,
  resolveAstridHome,
} from "../../kernel/api/client_kit.ts";
import { parseArgv } from "../argv.ts";
import { denoIo } from "../commands/command_io.ts";
import type { CommandIo } from "../commands/command_io.ts";
import {
  connectDaemon,
  homeFiles,
  readReady,
  startAndWait,
  stopDaemon,
} from "../daemon_client.ts";
import type { GlobalFlags } from "../flags.ts";
import { UsageError, warnLogger } from "../output.ts";
import { type WrapSource, wrapSource } from "./wrap_source.ts";

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

/** The parsed command line of `astrid mcp wrap`. */
export interface WrapArgs {
  readonly command: readonly string[];
  readonly manifest?: string;
  readonly env: readonly string[];
  readonly writable: boolean;
  readonly name?: string;
  readonly installOnly: boolean;
  readonly learn: boolean;
  readonly yes: boolean;
  readonly workspace?: string;
  readonly help: boolean;
}

/**
 * Parses `astrid mcp wrap`'s arguments: options, then `--`, then the
 * server's command line (never parsed as options).
 *
 * @param argv The arguments after `wrap`.
 * @returns The parsed arguments.
 * @throws {UsageError} Without `--`, with an empty command, an unknown
 *   option, or a generation option together with `--manifest`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWrapArgs } from "./wrap.ts";
 * const a = parseWrapArgs(["--install-only", "--", "npx", "-y", "pkg@1.0.0"]);
 * assert.deepEqual(a.command, ["npx", "-y", "pkg@1.0.0"]);
 * assert.equal(a.installOnly, true);
 * ```
 */
export function parseWrapArgs(argv: readonly string[]): WrapArgs {
  const split = argv.indexOf("--");
  const own = split === -1 ? argv : argv.slice(0, split);
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgv(own, {
      manifest: { type: "string" },
      env: { type: "string", multiple: true },
      writable: { type: "boolean" },
      name: { type: "string" },
      "install-only": { type: "boolean" },
      learn: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      workspace: { type: "string", short: "w" },
      help: { type: "boolean", short: "h" },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const help = values["help"] === true;
  const str = (k: string) =>
    typeof values[k] === "string" ? values[k] as string : undefined;
  const base = {
    env: Array.isArray(values["env"]) ? values["env"] : [],
    writable: values["writable"] === true,
    installOnly: values["install-only"] === true,
    learn: values["learn"] === true,
    yes: values["yes"] === true,
    help,
    ...(str("manifest") ? { manifest: str("manifest")! } : {}),
    ...(str("name") ? { name: str("name")! } : {}),
    ...(str("workspace") ? { workspace: str("workspace")! } : {}),
  };
  if (help) return { ...base, command: [] };
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${
        positionals[0]
      }': the server's command goes after '--' (astrid mcp wrap -- <command> [args])`,
    );
  }
  if (split === -1) {
    throw new UsageError(
      "Missing '--' before the server's command: astrid mcp wrap [options] -- <command> [args]",
    );
  }
  const command = argv.slice(split + 1);
  if (command.length === 0 || command[0] === "") {
    throw new UsageError(
      "Missing the server's command after '--': astrid mcp wrap [options] -- <command> [args]",
    );
  }
  if (
    base.manifest !== undefined &&
    (base.env.length > 0 || base.writable || base.name !== undefined ||
      base.learn)
  ) {
    throw new UsageError(
      "--env, --writable, --name and --learn shape a generated manifest; with --manifest, edit the manifest instead",
    );
  }
  if (base.learn && !base.installOnly) {
    throw new UsageError(
      "--learn runs the server once to write its manifest: use it with --install-only",
    );
  }
  return { ...base, command };
}

function grantLines(source: WrapSource): string[] {
  const g = source.generated;
  if (g === undefined) {
    return [`  the grants of ${path.join(source.dir, "Capsule.toml")}:`]
      .concat(source.toml.split("\n").map((l) => `    ${l}`));
  }
  return [
    `  runs:       ${[g.command, ...g.args].join(" ")}`,
    `  may read:   ${g.fsRead.join(", ") || "(nothing)"}`,
    `  may write:  ${g.fsWrite.join(", ") || "(nothing)"}`,
    `  env names:  ${g.env.join(", ") || "(none)"}`,
    "  network:    (none)",
    "  each permission check of the server: a gate decision, audited (broker mode)",
  ];
}

function hostLine(args: WrapArgs): string {
  const opts = [
    ...(args.manifest ? ["--manifest", path.resolve(args.manifest)] : []),
    ...args.env.flatMap((e) => ["--env", e]),
    ...(args.writable ? ["--writable"] : []),
    ...(args.name ? ["--name", args.name] : []),
  ];
  return ["astrid", "mcp", "wrap", ...opts, "--", ...args.command].join(" ");
}

function homeEnv(env: Readonly<Record<string, string>>) {
  return { get: (n: string) => env[n] };
}

async function install(
  args: WrapArgs,
  source: WrapSource,
  options: {
    workspace: string;
    io: CommandIo;
    env: Readonly<Record<string, string>>;
  },
): Promise<number> {
  const { io, env, workspace } = options;
  if (source.generated) {
    io.err(
      `Generated ${
        path.join(source.dir, "Capsule.toml")
      } — review it; edit it and pass --manifest to change it`,
    );
    for (const w of source.generated.warnings) io.err(`warning: ${w}`);
  }
  io.err(`Capsule '${source.name}':`);
  for (const l of grantLines(source)) io.err(l);
  const state = await compareWrapInstall(
    await wrapInventory({ env: homeEnv(env) }),
    source.dir,
  );
  if (state.state === "same") {
    io.err(`Already installed and unchanged: ${source.name}`);
  } else {
    if (state.state !== "absent") {
      io.err(`The installed '${source.name}' is replaced: ${state.reason}`);
    }
    if (!args.yes) {
      const answer = io.ask("Install it with these grants? [y/N]");
      if (answer === null) {
        throw new KernelError(
          "APPROVAL_DENIED",
          "Cannot ask for approval without a terminal: run this in a terminal, or pass --yes to approve the grants shown",
        );
      }
      if (!/^y(es)?$/i.test(answer.trim())) {
        throw new KernelError(
          "APPROVAL_DENIED",
          "Not installed: the grants were not approved",
        );
      }
    }
    // One install path, as `astrid capsule install`: a local kernel. The
    // daemon holds the store and cannot read a manifest outside its roots,
    // so a running one is stopped first and a persistent one started again
    // (its Deno flags then include the new grants).
    const { files } = homeFiles(env);
    const ready = await readReady(files);
    const stopped = await stopDaemon(env);
    try {
      await using kernel = await startKernel({
        logger: warnLogger,
        workspace,
        env: homeEnv(env),
      });
      await installBuiltCapsule(kernel, {
        dir: source.dir,
        approvedBy: "operator (astrid mcp wrap --install-only)",
        workspace,
        onProgress: (m) => io.err(`  ${m}`),
      });
    } finally {
      if (stopped === "stopped" && ready !== null && !ready.ephemeral) {
        (await startAndWait({
          workspace: ready.roots[0] ?? workspace,
          ephemeral: false,
        }, env)).close();
        io.err("  the daemon restarted with permissions for the new capsule");
      } else if (stopped === "stopped") {
        io.err(
          "  the daemon stopped; the next command starts it with permissions for the new capsule",
        );
      }
    }
    io.err(
      `Installed ${source.name}: install record signed with the runtime key (audited)`,
    );
  }
  io.err("The MCP host runs:");
  io.err(`  ${hostLine(args)}`);
  return 0;
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

/** `--learn`: the env names the server reads join `--env` (shown, asked). */
async function learn(
  args: WrapArgs,
  o: {
    io: CommandIo;
    workspace: string;
    home: string;
    env: Readonly<Record<string, string>>;
  },
): Promise<WrapArgs> {
  const draft = await wrapSource(args.command, {
    cwd: o.io.cwd,
    wrapRoot: path.join(o.home, "wrap"),
    persist: false,
    ...(o.env["HOME"] ? { home: o.env["HOME"] } : {}),
    env: args.env,
    writable: args.writable,
    ...(args.name ? { name: args.name } : {}),
  });
  const socketDir = await Deno.makeTempDir({ prefix: "astrid-learn-" });
  try {
    o.io.err(
      "Learning: running the server once under a recording permission broker (only the named paths readable; no network, no processes)",
    );
    const needs = await learnServerNeeds({
      dir: draft.dir,
      workspace: o.workspace,
      socketDir,
    });
    o.io.err(
      needs.tools === null
        ? `  the server did not list its tools: ${needs.error ?? "unknown"}`
        : `  the server started and listed ${needs.tools.length} tools`,
    );
    for (const d of needs.denied) {
      o.io.err(`  asked for, not granted: ${d}`);
    }
    const added = needs.env.filter((n) => !args.env.includes(n));
    if (added.length > 0) {
      o.io.err(`  it reads the env names: ${added.join(", ")}`);
    }
    return { ...args, env: [...args.env, ...added], learn: false };
  } finally {
    await Deno.remove(socketDir, { recursive: true });
    await Deno.remove(draft.dir, { recursive: true });
  }
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
        hostLine({ ...args, installOnly: true }).replace(
          "mcp wrap",
          "mcp wrap --install-only",
        )
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
