/**
 * `astrid capsule new|build|install` — writing your own capsule (local);
 * `astrid capsule list|tree|update|remove` — the installed capsules, through
 * the daemon. After a change a running daemon restarts
 * ({@linkcode afterCapsuleChange}).
 *
 * @module
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import {
  BUILD_LOCK,
  buildCapsuleDir,
  installBuiltCapsule,
  KernelError,
  parseCapsuleId,
  renderTree,
  startKernel,
} from "../../mod.ts";
import { note, out, UsageError, warnLogger } from "../output.ts";
import type { GlobalFlags } from "../flags.ts";
import { type CapsuleKind, capsuleTemplate } from "./capsule_templates.ts";
import type { ProgressEvent } from "../../mod.ts";
import type {
  CapsuleListBody,
  CapsuleRemoveBody,
  CapsuleTreeBody,
  RefusedCapsuleInfo,
} from "../../mod.ts";
import { connectDaemon } from "../daemon_client.ts";
import type { Connect } from "./audit.ts";
import {
  afterCapsuleChange,
  type DaemonControl,
  socketDaemonControl,
} from "./capsule_change.ts";

/** Help text of `astrid capsule`. */
export const CAPSULE_HELP = `astrid capsule — write, build and install capsules

Usage:
  astrid capsule new <name> [--dir DIR] [--kind tool|interceptor]
      Scaffold <DIR>/<name>/ (DIR defaults to the current directory):
        Capsule.toml      least-privilege manifest, every grant commented
        main.ts           a working example written with defineCapsule
        <name>_test.ts    runs the capsule inside a real kernel (deno test -A)
        deno.json         maps @astrid/sdk to this checkout's SDK
                          (published: jsr:@astrid/sdk)
      --kind tool         (default) one tool, word_count, that reads a workspace file
      --kind interceptor  a guard on every tool call that denies secret files
      <name>: 1-64 of a-z, 0-9 and '-', starting with a letter.

  astrid capsule build <dir> [--json]
      Validate <dir>/Capsule.toml, then compile its source into the component
      file: TypeScript (main.ts, or [[component]].source) is bundled with
      'deno bundle' for a js component; AssemblyScript (index.ts, or
      [[component]].source) is compiled with asc for a wasm component (the
      toolchain comes from npm via the capsule's package.json). Writes
      ${BUILD_LOCK}: BLAKE3 of Capsule.toml, every source file and the artifact.

  astrid capsule install <dir> [--unconfined] [-w DIR] [--json]
      Check <dir> against ${BUILD_LOCK} (a file changed since the build is
      named and refused; without a lock the capsule is built first), then
      install it into $ASTRID_HOME with an install record signed by the
      runtime key (the approval is audited). Capsules without a component
      (MCP servers, static context) install their files as they are.
      A running daemon restarts afterwards (its permissions follow the
      installed capsules). --unconfined: the operator's approval to run the
      capsule's non-Deno MCP servers without bubblewrap (recorded in the
      signed install record and audited). npm: sources are not supported yet.

  astrid capsule list [--json]
      The installed capsules: version, engine, source, what each may do in
      words; capsules that would not load (tampered, foreign record) and why.

  astrid capsule tree [--json]
      The dependency tree: each capsule's exports and imports, who satisfies
      each import, the load order, and what cannot be resolved.

  astrid capsule update <name> [--unconfined]
      Reinstall <name> from the source its install record names (checked
      against its build lock, re-pinned, re-signed, audited), with progress.

  astrid capsule remove <name> [--force]
      Remove <name> (audited). Refused when another installed capsule needs
      an interface only <name> provides, unless --force. Its configuration
      and stored state stay.

  list, tree, update and remove go through the daemon (started when none runs).

Exit codes: 0 ok, 1 failure (error[CODE] on stderr), 2 usage error.`;

const ROOT = path.resolve(import.meta.dirname ?? ".", "../..");
const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * Runs `astrid capsule <sub>`.
 *
 * @param args Arguments after `capsule`.
 * @param flags Global flags.
 * @param connect Connects to the daemon (list, tree, update, remove).
 * @param daemon Finds a running daemon to restart after a change.
 * @returns The exit code.
 */
export async function capsuleCommand(
  args: readonly string[],
  flags: GlobalFlags,
  connect: Connect = () => connectDaemon(flags),
  daemon: DaemonControl = socketDaemonControl(),
): Promise<number> {
  const [sub, target, ...extra] = args;
  if (extra.length > 0) {
    throw new UsageError(`Unexpected argument '${extra[0]}'`);
  }
  const noTarget = () => {
    if (target !== undefined) {
      throw new UsageError(`Unexpected argument '${target}'`);
    }
  };
  switch (sub) {
    case "new":
      return await newCapsule(target, flags);
    case "build":
      return await build(target, flags);
    case "install": {
      const code = await install(target, flags);
      await afterCapsuleChange(daemon);
      return code;
    }
    case "list":
      noTarget();
      return await list(connect, flags);
    case "tree":
      noTarget();
      return await tree(connect, flags);
    case "update": {
      const code = await update(connect, target, flags);
      await afterCapsuleChange(daemon);
      return code;
    }
    case "remove": {
      const code = await remove(connect, target, flags);
      await afterCapsuleChange(daemon);
      return code;
    }
    default:
      throw new UsageError(
        sub
          ? `Unknown capsule subcommand '${sub}'`
          : "Missing capsule subcommand (new, build, install, list, tree, update, remove)",
      );
  }
}

function printRefused(refused: readonly RefusedCapsuleInfo[]): void {
  if (refused.length === 0) return;
  out(`\nWould not load (${refused.length}):`);
  for (const r of refused) out(`  ${r.name}: error[${r.code}] ${r.reason}`);
}

async function list(connect: Connect, flags: GlobalFlags): Promise<number> {
  const client = await connect();
  const body = await client.call<CapsuleListBody>("capsulesList");
  if (flags.json) {
    out(JSON.stringify(body, null, 2));
    return 0;
  }
  out(`Installed capsules (${body.capsules.length})`);
  for (const c of body.capsules) {
    out(
      `  ${c.name} ${c.version} [${c.engine}]${
        c.unconfined ? " UNCONFINED" : ""
      }${c.description ? ` — ${c.description}` : ""}`,
    );
    out(`    source:    ${c.source ?? "(not recorded)"}`);
    out(`    installed: ${new Date(c.installed_at).toISOString()}`);
    out(`    may:       ${c.grants.join("\n               ")}`);
  }
  printRefused(body.refused);
  return 0;
}

async function tree(connect: Connect, flags: GlobalFlags): Promise<number> {
  const client = await connect();
  const body = await client.call<CapsuleTreeBody>("capsulesTree");
  if (flags.json) {
    out(JSON.stringify(body, null, 2));
    return 0;
  }
  out(renderTree(body.tree));
  out(`\nLoad order: ${body.order.join(" -> ") || "(none)"}`);
  if (body.unresolved.length > 0) {
    out(`\nUnresolved (${body.unresolved.length}):`);
    for (const r of body.unresolved) {
      out(`  ${r.capsule}: ${r.code}: ${r.reason}`);
    }
  }
  printRefused(body.refused);
  return 0;
}

async function update(
  connect: Connect,
  target: string | undefined,
  flags: GlobalFlags,
): Promise<number> {
  const name = need(target, "capsule name: astrid capsule update <name>");
  const client = await connect();
  const events = client.stream<ProgressEvent>("capsulesUpdate", {
    params: { name },
    ...(flags.unconfined ? { query: { unconfined: "true" } } : {}),
  });
  for await (const e of events) {
    if (e.type === "progress") note(`  ${e.message}`);
    else if (e.type === "done") {
      out(flags.json ? JSON.stringify(e.result ?? {}, null, 2) : e.message);
      return 0;
    } else {
      throw new KernelError(e.error?.code ?? "INTERNAL", e.message);
    }
  }
  throw new KernelError(
    "DAEMON_UNAVAILABLE",
    `The daemon ended the update of '${name}' without a result`,
  );
}

async function remove(
  connect: Connect,
  target: string | undefined,
  flags: GlobalFlags,
): Promise<number> {
  const name = need(target, "capsule name: astrid capsule remove <name>");
  const client = await connect();
  const body = await client.call<CapsuleRemoveBody>("capsulesRemove", {
    params: { name },
    ...(flags.force ? { query: { force: "true" } } : {}),
  });
  if (flags.json) {
    out(JSON.stringify(body, null, 2));
    return 0;
  }
  out(`Removed ${body.removed} (audited); its configuration and state stay`);
  if (body.dependents.length > 0) {
    note(
      `warning: ${
        body.dependents.join(", ")
      } now miss an interface only ${body.removed} provided and will not load`,
    );
  }
  return 0;
}

function need(target: string | undefined, what: string): string {
  if (target === undefined || target === "") {
    throw new UsageError(`Missing ${what}`);
  }
  return target;
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function kernelCompilerOptions(): Promise<Record<string, unknown>> {
  const config = JSON.parse(
    await Deno.readTextFile(path.join(ROOT, "deno.json")),
  ) as { compilerOptions?: Record<string, unknown> };
  return config.compilerOptions ?? {};
}

async function newCapsule(
  target: string | undefined,
  flags: GlobalFlags,
): Promise<number> {
  const name = need(target, "capsule name: astrid capsule new <name>");
  if (!NAME.test(name) || name.endsWith("-")) {
    throw new KernelError(
      "INVALID_ID",
      `Invalid capsule name '${name}': use 1-64 of a-z, 0-9 and '-', starting with a letter and not ending with '-' (e.g. 'word-count')`,
    );
  }
  parseCapsuleId(name);
  const kind = flags.kind ?? "tool";
  if (kind !== "tool" && kind !== "interceptor") {
    throw new UsageError(
      `Unknown --kind '${kind}' (expected 'tool' or 'interceptor')`,
    );
  }
  const parent = path.resolve(flags.dir ?? ".");
  const dir = path.join(parent, name);
  if (await exists(dir)) {
    throw new KernelError(
      "INVALID_INPUT",
      `Cannot create capsule '${name}': '${dir}' already exists (pick another name or --dir)`,
      { data: { dir } },
    );
  }
  const files = capsuleTemplate({
    name,
    kind: kind as CapsuleKind,
    sdkUrl: pathToFileURL(path.join(ROOT, "sdk", "mod.ts")).href,
    kernelUrl: pathToFileURL(path.join(ROOT, "mod.ts")).href,
    compilerOptions: await kernelCompilerOptions(),
  });
  await Deno.mkdir(parent, { recursive: true });
  await Deno.mkdir(dir);
  for (const [rel, text] of Object.entries(files)) {
    await Deno.writeTextFile(path.join(dir, rel), text);
  }
  // The templates' line breaks depend on the name's length: let deno fmt
  // settle them, so the new capsule passes its own `deno fmt --check`.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", dir],
    cwd: dir,
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
  if (flags.json) {
    out(JSON.stringify({ dir, kind, files: Object.keys(files) }, null, 2));
    return 0;
  }
  const rel = path.relative(Deno.cwd(), dir) || ".";
  out(`Created ${kind} capsule '${name}' in ${dir}`);
  for (const f of Object.keys(files)) out(`  ${f}`);
  out(`
Next:
  cd ${rel}
  deno test -A                      # runs it inside a real kernel
  astrid capsule build .            # bundles main.ts → ${name}.js, writes ${BUILD_LOCK}
  astrid capsule install .          # installs it with a signed record`);
  return 0;
}

async function build(
  target: string | undefined,
  flags: GlobalFlags,
): Promise<number> {
  const dir = path.resolve(
    need(target, "directory: astrid capsule build <dir>"),
  );
  const started = performance.now();
  const result = await buildCapsuleDir({
    dir,
    onProgress: (m) => note(`  ${m}`),
  });
  const ms = Math.round(performance.now() - started);
  if (flags.json) {
    out(JSON.stringify({ ...result.lock, bytes: result.bytes, ms }, null, 2));
    return 0;
  }
  out(
    `Built ${result.lock.capsule}@${result.lock.version} (${result.lock.engine}): ${result.lock.artifact}, ${result.bytes} bytes, in ${ms} ms`,
  );
  out(
    `  ${BUILD_LOCK}: ${Object.keys(result.lock.files).length} files pinned`,
  );
  return 0;
}

async function install(
  target: string | undefined,
  flags: GlobalFlags,
): Promise<number> {
  const source = need(target, "directory: astrid capsule install <dir>");
  if (source.startsWith("npm:")) {
    throw new KernelError(
      "INVALID_INPUT",
      `Installing a capsule from npm ('${source}') is not supported yet: download the package, then 'astrid capsule install <its directory>'`,
    );
  }
  const dir = path.resolve(source);
  await using kernel = await startKernel({
    logger: warnLogger,
    ...(flags.workspace ? { workspace: path.resolve(flags.workspace) } : {}),
  });
  if (flags.unconfined) {
    note(
      "warning: --unconfined: this capsule's non-Deno MCP servers will run WITHOUT bubblewrap, as you (audited)",
    );
  }
  const result = await installBuiltCapsule(kernel, {
    dir,
    onProgress: (m) => note(`  ${m}`),
    ...(flags.unconfined
      ? { unconfined: true, approvedBy: "operator (--unconfined)" }
      : {}),
  });
  if (flags.json) {
    out(JSON.stringify(result, null, 2));
    return 0;
  }
  out(
    `Installed ${result.capsule}@${result.version} into ${result.installedDir}`,
  );
  out(
    `  ${result.files} files pinned; install record signed with the runtime key (audited)`,
  );
  return 0;
}
