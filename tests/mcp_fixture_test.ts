/**
 * A kernel and runtime for end-to-end MCP tests: real npm servers launched
 * confined by the real `mcp` engine (no test of its own here).
 *
 * @module
 */
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import type { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import type { BootReport } from "../kernel/capsule/registry/registry.ts";
import type { AuditEntry } from "../kernel/audit/audit_entry.ts";
import type { KernelHandle } from "../kernel/daemon/boot.ts";
import {
  type Runtime,
  type RuntimeOptions,
  startRuntime,
} from "../kernel/daemon/runtime.ts";
import { pinCapsule, startTestKernel } from "./test_kernel_test.ts";

/** Pinned npm MCP servers. */
export const SERVERS = {
  filesystem: "@modelcontextprotocol/server-filesystem@2026.8.31",
  memory: "@modelcontextprotocol/server-memory@2026.8.31",
  everything: "@modelcontextprotocol/server-everything@2026.8.31",
} as const;

/** Env names server-everything reads at startup. */
export const EVERYTHING_ENV = [
  "GZIP_MAX_FETCH_SIZE",
  "GZIP_MAX_FETCH_TIME_MILLIS",
  "GZIP_ALLOWED_DOMAINS",
] as const;

/** Permissions of every MCP end-to-end test. */
export const MCP_PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
};

/** The kernel, runtime and helpers of one MCP test. */
export interface McpFixture {
  readonly root: string;
  readonly home: string;
  readonly workspace: string;
  readonly kernel: KernelHandle;
  readonly runtime: Runtime;
  readonly logger: MemoryLogger;
  /** Writes `Capsule.toml` (+ files) into the principal's capsule dir and pins it. */
  install(
    name: string,
    toml: string,
    files?: Readonly<Record<string, string>>,
    meta?: { unconfined?: boolean },
  ): Promise<string>;
  boot(): Promise<BootReport>;
  invoke(
    capsule: string,
    action: string,
    payload?: JsonValue,
  ): Promise<JsonValue>;
  /** Audit entries of a capsule in a session (not the install's). */
  audit(capsule: string): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/**
 * The `[[mcp_server]]` lines running an npm server through `npx`, plus the
 * matching `host_process` grant.
 *
 * @param id Server id.
 * @param pkg Pinned package.
 * @param options Extra args and mode.
 * @returns TOML lines: `host` for `[capabilities]`, `server` for the table.
 */
export function npmServer(
  id: string,
  pkg: string,
  options: { args?: readonly string[]; mode?: "broker" | "flags" } = {},
): { host: string; server: string } {
  const args = ["-y", pkg, ...(options.args ?? [])];
  return {
    host: `host_process = [${JSON.stringify(`npx -y ${pkg}`)}]`,
    server: [
      "[[mcp_server]]",
      `id = "${id}"`,
      'command = "npx"',
      `args = ${JSON.stringify(args)}`,
      ...(options.mode ? [`mode = "${options.mode}"`] : []),
      "",
    ].join("\n"),
  };
}

/**
 * The `Capsule.toml` of a capsule whose one MCP server is a local Deno script
 * `server.ts` (`deno run server.ts`).
 *
 * @param name The capsule's name.
 * @param options Server id, launch mode and extra `[capabilities]` lines.
 * @returns The manifest text.
 */
export function denoServerManifest(
  name: string,
  options: {
    id: string;
    mode: "broker" | "flags";
    capabilities?: readonly string[];
  },
): string {
  return [
    "[package]",
    `name = "${name}"`,
    'version = "1.0.0"',
    "[capabilities]",
    'host_process = ["deno run server.ts"]',
    ...(options.capabilities ?? []),
    "",
    "[[mcp_server]]",
    `id = "${options.id}"`,
    'command = "deno"',
    'args = ["run", "server.ts"]',
    `mode = "${options.mode}"`,
    "",
  ].join("\n");
}

/**
 * Calls one tool of an MCP capsule and returns the text of its first
 * content item.
 *
 * @param f The fixture (or anything with `invoke`).
 * @param capsule The capsule.
 * @param tool The tool.
 * @param args Its arguments.
 * @returns The text.
 */
export async function toolText(
  f: { invoke(c: string, a: string, p?: JsonValue): Promise<JsonValue> },
  capsule: string,
  tool: string,
  args: { [k: string]: JsonValue },
): Promise<string> {
  const r = await f.invoke(capsule, "call_tool", { tool, arguments: args }) as {
    content: { text?: JsonValue }[];
  };
  return String(r.content[0]?.text);
}

/**
 * Boots a real kernel (in-memory store unless `fileStore`, `autonomous`
 * mode) and its runtime.
 *
 * @param options Runtime options (MCP ports, restart policy), more config
 *   TOML, the call deadline, a file-backed store.
 * @returns The fixture; call `close()` in `finally`.
 */
export async function makeMcpRuntime(
  options: {
    mcp?: RuntimeOptions["mcp"];
    bubblewrap?: string | null;
    config?: string;
    timeoutMs?: number;
    /** Keep state in `<home>/var/state.kv` (a Deno KV file) instead of memory. */
    fileStore?: boolean;
    /** The DNS resolver of the SSRF check (remote MCP servers, http host call). */
    resolveDns?: RuntimeOptions["resolveDns"];
  } = {},
): Promise<McpFixture> {
  const { root, home, workspace, kernel, logger } = await startTestKernel({
    prefix: "astrid-mcp-",
    fileStore: options.fileStore === true,
    ...(options.config === undefined ? {} : { config: options.config }),
  });
  let runtime: Runtime;
  try {
    runtime = await startRuntime(kernel, {
      workspace,
      limits: {
        timeoutMs: options.timeoutMs ?? 20_000,
        memoryBytes: 64 * 1024 * 1024,
      },
      bubblewrap: options.bubblewrap ?? null,
      ...(options.resolveDns ? { resolveDns: options.resolveDns } : {}),
      mcp: {
        restart: { initialDelayMs: 50, maxDelayMs: 200 },
        ...options.mcp,
      },
    });
  } catch (err) {
    await kernel.close();
    await Deno.remove(root, { recursive: true });
    throw err;
  }
  const capsules = kernel.home.home(kernel.principal).capsules;
  return {
    root,
    home,
    workspace,
    kernel,
    runtime,
    logger,
    async install(name, toml, files = {}, meta = {}) {
      const dir = path.join(capsules, name);
      await Deno.mkdir(dir, { recursive: true });
      for (const [file, text] of Object.entries(files)) {
        await Deno.mkdir(path.dirname(path.join(dir, file)), {
          recursive: true,
        });
        await Deno.writeTextFile(path.join(dir, file), text);
      }
      await pinCapsule(kernel, dir, toml, {
        unconfined: meta.unconfined === true,
      });
      return dir;
    },
    boot: () => runtime.boot(),
    invoke: (capsule, action, payload = null) =>
      runtime.registry.invoke(capsule as CapsuleId, action, payload),
    audit: async (capsule) => {
      await kernel.security.gate.flush();
      // Session entries only: the install record's approval has no session.
      return (await kernel.security.audit.query({
        principal: kernel.principal,
        capsule: capsule as CapsuleId,
      })).filter((e) => e.session !== null);
    },
    async close() {
      try {
        await runtime.close();
      } finally {
        try {
          await kernel.close();
        } finally {
          await Deno.remove(root, { recursive: true });
        }
      }
    },
  };
}
