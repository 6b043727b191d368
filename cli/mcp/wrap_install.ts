/**
 * `astrid mcp wrap --install-only [--learn]`: shows the wrap's grants, asks
 * the operator (or takes `--yes`), and installs the capsule through the one
 * install path (`installBuiltCapsule` on a local kernel, as `astrid capsule
 * install`); `--learn` first runs the server once under a recording broker.
 *
 * Security model: an unchanged install (same pins, same grants) is reused
 * without asking; anything else is installed only after an explicit yes —
 * without a terminal only with `--yes`. The daemon holds the store and may
 * not read a manifest outside its roots, so a running daemon is stopped for
 * the install and a persistent one started again: its Deno flags are
 * computed from the installed capsules when it starts.
 *
 * @module
 */
import * as path from "node:path";
import {
  allowWrapStartChecks,
  checkWrapManifest,
  compareWrapInstall,
  installBuiltCapsule,
  KernelError,
  learnServerNeeds,
  startKernel,
  wrapInventory,
} from "../../mod.ts";
import type { CommandIo } from "../commands/command_io.ts";
import {
  homeFiles,
  readReady,
  startAndWait,
  stopDaemon,
} from "../daemon_client.ts";
import { warnLogger } from "../output.ts";
import { hostLine, type WrapArgs } from "./wrap_args.ts";
import { type WrapSource, wrapSource } from "./wrap_source.ts";

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

/**
 * The home environment port of an environment record.
 *
 * @param env The environment.
 * @returns An `Env` port reading it.
 */
export function homeEnv(env: Readonly<Record<string, string>>) {
  return { get: (n: string) => env[n] };
}

/**
 * Installs a wrap after showing its grants and asking.
 *
 * @param args The parsed arguments (`--yes`).
 * @param source The wrap's source directory and manifest.
 * @param options Workspace, terminal and environment.
 * @returns The exit code.
 * @throws {KernelError} `APPROVAL_DENIED` when not approved; what
 *   `installBuiltCapsule` throws.
 */
export async function install(
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
  io.err(
    `  approving also lets the server read these env names while it starts, in ${workspace} only, without asking (workspace allowances, audited)`,
  );
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
      const approvedBy = "operator (astrid mcp wrap --install-only)";
      await installBuiltCapsule(kernel, {
        dir: source.dir,
        approvedBy,
        workspace,
        onProgress: (m) => io.err(`  ${m}`),
      });
      // A server reads its env names while it starts, before any host call
      // could carry a question: the approval above covers them (safe and
      // guided mode would otherwise ask nobody and stop the server).
      const names = await allowWrapStartChecks(kernel, {
        manifest: checkWrapManifest(source.toml, {
          file: path.join(source.dir, "Capsule.toml"),
          dir: source.dir,
        }),
        workspace,
        approvedBy,
      });
      if (names.length > 0) {
        io.err(
          `  allowed at start-up in ${workspace}: env ${names.join(", ")}`,
        );
      }
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
  io.err(`  ${hostLine(args, { workspace })}`);
  return 0;
}

/**
 * `--learn`: the env names the server reads join `--env` (shown, asked).
 *
 * @param args The parsed arguments.
 * @param o Terminal, workspace, home and environment.
 * @returns The arguments with the learned env names added.
 * @throws {KernelError} What `learnServerNeeds` throws.
 */
export async function learn(
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
