/**
 * `astrid mcp wrap --learn`: runs a wrapped Deno/npm MCP server once under
 * the permission broker, in a mode that records what it asks for, so the
 * generated manifest can name what the server needs at start-up (e.g. the
 * env names its libraries read) for the operator to review.
 *
 * Security model: the learning run is confined at least as tightly as the
 * capsule it proposes. It is launched exactly as the engine launches it
 * (`denoLaunchArgs` in broker mode: no `--allow-*`, `--deny-import`, the
 * environment scrubbed to the manifest's env names — so a variable the
 * server asks for is answered "allowed" but has no value), and every broker
 * request is decided here: reads inside the manifest's read roots (the
 * paths named on the command line, the capsule dir) and Deno's own cache
 * are allowed, writes only inside its write roots; env checks of a single
 * well-formed name are allowed and recorded (no value can leak: the child's
 * environment holds none but the granted ones); everything else — reads and
 * writes elsewhere, network, run, ffi, sys, import, "all of it" — is denied
 * and recorded. The run ends after `tools/list` or the time limit. What was
 * learned only ever goes into a manifest that is written for review and
 * installed with the operator's approval.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import type { Logger } from "../core/ports.ts";
import { grantsFromManifest } from "../capsule/manifest/grants_from_manifest.ts";
import {
  denoLaunchArgs,
  grantedRoots,
} from "../capsule/engines/mcp/launch_flags.ts";
import {
  type BrokerRequest,
  type BrokerVerdict,
  startPermissionBroker,
} from "../capsule/engines/mcp/permission_broker.ts";
import { connectMcpClient } from "../capsule/engines/mcp/client/mcp_client.ts";
import { createDenoEnv } from "../host/deno_env.ts";
import { createDenoNet } from "../host/deno_net.ts";
import { createDenoSpawner } from "../host/deno_spawner.ts";
import { createDenoFs } from "../host/deno_fs.ts";
import { denoToolchain } from "../host/deno_toolchain.ts";
import { checkWrapManifest } from "./wrap_capsule.ts";

/** What {@linkcode learnServerNeeds} observed. */
export interface LearnedNeeds {
  /** Env names the server read (allowed without a value), sorted. */
  readonly env: readonly string[];
  /** Refused requests, `permission:value` (`*` for "all of it"), in order. */
  readonly denied: readonly string[];
  /** The names of the tools the server listed, or `null` when it did not get that far. */
  readonly tools: readonly string[] | null;
  /** Why the run ended early (the server exited, timed out), if it did. */
  readonly error?: string;
}

/** Options of {@linkcode learnServerNeeds}. */
export interface LearnOptions {
  /** The directory holding the generated `Capsule.toml` (the capsule dir). */
  readonly dir: string;
  /** The workspace (`cwd://` entries). */
  readonly workspace: string;
  /** A private (`0700`) directory for the broker's socket. */
  readonly socketDir: string;
  /** How long the server may take to list its tools; default 60 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SILENT: Logger = { log() {}, child: () => SILENT };

function inside(value: string, roots: readonly string[]): boolean {
  const v = path.posix.normalize(value);
  return roots.some((r) => v === r || v.startsWith(r === "/" ? r : `${r}/`));
}

/**
 * Runs the manifest's (one) Deno/npm MCP server once under a recording
 * broker and lists its tools.
 *
 * @param options The capsule dir, workspace and time limit.
 * @returns The env names it read and the requests that were refused.
 * @throws {KernelError} `MANIFEST_INVALID` (see `checkWrapManifest`; a
 *   server that is not a Deno program cannot be learned), `CAPSULE_FAILED`
 *   when the package cannot be fetched into Deno's cache.
 */
export async function learnServerNeeds(
  options: LearnOptions,
): Promise<LearnedNeeds> {
  const fs = createDenoFs();
  const file = path.join(options.dir, "Capsule.toml");
  const manifest = checkWrapManifest(await fs.readTextFile(file), {
    file,
    dir: options.dir,
  });
  const server = manifest.mcp_servers[0]!;
  // checkWrapManifest refused remote servers.
  if (server.type !== "stdio") throw new TypeError("not a stdio server");
  const grants = grantsFromManifest(manifest);
  const toolchain = denoToolchain(createDenoEnv());
  const base = {
    denoPath: toolchain.denoPath,
    capsuleDir: options.dir,
    workspace: options.workspace,
    ...(toolchain.denoDir ? { denoDir: toolchain.denoDir } : {}),
  };
  const probe = denoLaunchArgs(server, grants, { ...base, mode: "broker" });
  if (probe.kind !== "deno") {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Cannot learn what '${server.command}' needs: only Deno and npm servers run under the permission broker`,
    );
  }
  const spawner = createDenoSpawner();
  const cached = await spawner.output(toolchain.denoPath, {
    args: ["cache", "--no-config", probe.entry],
    env: { ...toolchain.toolEnv, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!cached.success) {
    throw new KernelError(
      "CAPSULE_FAILED",
      `Cannot fetch '${probe.entry}' into Deno's cache: ${
        new TextDecoder().decode(cached.stderr).trim().split("\n").at(-1) ?? ""
      }`,
    );
  }
  const roots = grantedRoots(grants, base);
  const readable = [
    ...roots.read,
    ...(toolchain.denoDir ? [toolchain.denoDir] : []),
  ];
  const env = new Set<string>();
  const denied: string[] = [];
  const decide = (req: BrokerRequest): Promise<BrokerVerdict> => {
    const v = req.value;
    let allow = false;
    if (v !== null) {
      if (req.permission === "env") allow = ENV_NAME.test(v);
      else if (req.permission === "read") allow = inside(v, readable);
      else if (req.permission === "write") allow = inside(v, roots.write);
    }
    if (allow && req.permission === "env") env.add(v!);
    if (!allow) {
      const entry = `${req.permission}:${v ?? "*"}`;
      if (!denied.includes(entry) && denied.length < 200) denied.push(entry);
    }
    return Promise.resolve(
      allow ? { allow: true } : { allow: false, reason: "LEARNING" },
    );
  };
  const broker = await startPermissionBroker({
    socketPath: path.join(
      options.socketDir,
      `learn-${crypto.randomUUID()}.sock`,
    ),
    decide,
    net: createDenoNet({ logger: SILENT }),
    logger: SILENT,
  });
  const launch = denoLaunchArgs(server, grants, {
    ...base,
    mode: "broker",
    brokerPath: broker.path,
  });
  if (launch.kind !== "deno") throw new TypeError("not a Deno server");
  const child = spawner.spawn(launch.command, {
    args: launch.args,
    env: launch.env,
    cwd: launch.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  });
  let tools: string[] | null = null;
  let error: string | undefined;
  try {
    const session = await connectMcpClient(
      { stdin: child.stdin!, stdout: child.stdout! },
      {
        requestTimeoutMs: options.timeoutMs ?? 60_000,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    try {
      tools = (await session.listTools()).map((t) => t.name);
    } finally {
      await session.close();
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // silent-ok: the server already exited.
    }
    await child.status;
    await broker.close();
  }
  return {
    env: [...env].sort(),
    denied,
    tools,
    ...(error === undefined ? {} : { error }),
  };
}
