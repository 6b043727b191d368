/**
 * Test helper (no tests): launches real MCP servers confined the way the
 * engine launches them (`denoLaunchArgs()` in flags mode, `--cached-only`,
 * scrubbed env) and connects the adapter to them.
 *
 * The child cannot download (no TLS certificates in its env), so
 * {@linkcode ensureEverythingCached} caches the pinned server-everything
 * package once from the parent, and the child gets the parent's Deno cache
 * as `DENO_DIR`.
 *
 * @module
 */
import * as path from "node:path";
import type { ChildProcess } from "../../../../core/ports.ts";
import { createDenoSpawner } from "../../../../host/deno_spawner.ts";
import { denoLaunchArgs, type LaunchGrants } from "../launch_flags.ts";
import { connectMcpClient } from "./mcp_client.ts";
import type { McpClientOptions, McpClientSession } from "./mcp_types.ts";

/** The pinned reference server. */
export const EVERYTHING =
  "npm:@modelcontextprotocol/server-everything@2026.8.31";

const EVERYTHING_ENV = [
  "GZIP_MAX_FETCH_SIZE",
  "GZIP_MAX_FETCH_TIME_MILLIS",
  "GZIP_ALLOWED_DOMAINS",
];

let cacheReady: Promise<string> | undefined;

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`deno ${args[0]} failed: ${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}

/**
 * Caches server-everything with the parent's env (once per test process) and
 * returns the Deno cache dir to hand to children.
 */
export function ensureEverythingCached(): Promise<string> {
  cacheReady ??= (async () => {
    await run(["cache", "--no-config", EVERYTHING]);
    const info = JSON.parse(await run(["info", "--json"]));
    return String(info.denoDir);
  })();
  return cacheReady;
}

/** A running, connected test server. */
export interface TestServer {
  readonly session: McpClientSession;
  readonly child: ChildProcess;
  /** Everything the child wrote to stderr, once it has exited. */
  readonly stderr: Promise<string>;
  /** Closes the session, kills the child, waits for it, removes its dir. */
  dispose(): Promise<void>;
}

/** What to launch and how. */
export interface LaunchSpec {
  /** `[[mcp_server]]` command and args. */
  readonly command: string;
  readonly args: readonly string[];
  /** Extra grants. */
  readonly grants?: Partial<LaunchGrants>;
  /** Files to write into the capsule dir first. */
  readonly files?: Readonly<Record<string, string>>;
}

/** A spawned, not yet connected, confined server. */
export interface SpawnedServer {
  readonly child: ChildProcess;
  readonly stdio: {
    stdin: WritableStream<Uint8Array>;
    stdout: ReadableStream<Uint8Array>;
  };
  readonly stderr: Promise<string>;
  /** Kills the child (if running), waits for it and removes its dir. */
  stop(): Promise<void>;
}

/**
 * Spawns a server confined with `denoLaunchArgs()` flags, `--cached-only`
 * inserted after `run`, stdio piped and stderr drained.
 */
export async function spawnServer(spec: LaunchSpec): Promise<SpawnedServer> {
  const cache = await ensureEverythingCached();
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid_mcp_" }),
  );
  const capsuleDir = path.join(dir, "cap");
  await Deno.mkdir(capsuleDir);
  for (const [name, text] of Object.entries(spec.files ?? {})) {
    await Deno.writeTextFile(path.join(capsuleDir, name), text);
  }
  const launch = denoLaunchArgs({ command: spec.command, args: spec.args }, {
    fs_read: spec.grants?.fs_read ?? [],
    fs_write: spec.grants?.fs_write ?? [],
    net: spec.grants?.net ?? [],
    env: spec.grants?.env ?? [],
  }, {
    denoPath: Deno.execPath(),
    capsuleDir,
    workspace: dir,
    mode: "flags",
    denoDir: cache,
  });
  if (launch.kind !== "deno") throw new Error("expected a Deno launch");
  const [first, ...rest] = launch.args;
  const child = createDenoSpawner().spawn(launch.command, {
    args: [first ?? "run", "--cached-only", ...rest],
    env: launch.env,
    cwd: launch.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const stderr = new Response(child.stderr).text();
  const stop = async (): Promise<void> => {
    try {
      child.kill("SIGTERM");
    } catch {
      // silent-ok: the child has already exited.
    }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  return {
    child,
    stdio: { stdin: child.stdin!, stdout: child.stdout! },
    stderr,
    stop,
  };
}

/**
 * Spawns a confined server and connects the adapter; on a failed connect the
 * child is stopped and the error rethrown.
 */
export async function startServer(
  spec: LaunchSpec,
  options: McpClientOptions = {},
): Promise<TestServer> {
  const spawned = await spawnServer(spec);
  let session: McpClientSession;
  try {
    session = await connectMcpClient(spawned.stdio, options);
  } catch (err) {
    await spawned.stop();
    throw err;
  }
  return {
    session,
    child: spawned.child,
    stderr: spawned.stderr,
    async dispose() {
      try {
        await session.close();
      } finally {
        await spawned.stop();
      }
    },
  };
}

/**
 * Starts server-everything (stdio mode), optionally allowed to read its own
 * package dir (static resources and instructions).
 */
export async function startEverything(
  options: McpClientOptions = {},
  extra: { readOwnPackage?: boolean } = {},
): Promise<TestServer> {
  const cache = await ensureEverythingCached();
  const pkg = path.join(
    cache,
    "npm/registry.npmjs.org/@modelcontextprotocol/server-everything/2026.8.31",
  );
  return await startServer({
    command: "npx",
    args: ["-y", EVERYTHING.slice("npm:".length)],
    grants: {
      env: EVERYTHING_ENV,
      fs_read: extra.readOwnPackage ? [pkg] : [],
    },
  }, options);
}

/** A promise and the callback that resolves it (first call wins). */
export function firstCall<T>(): {
  readonly promise: Promise<T>;
  readonly callback: (value: T) => void;
} {
  const { promise, resolve } = Promise.withResolvers<T>();
  return { promise, callback: resolve };
}
