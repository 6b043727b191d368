/**
 * What the INSTALLED capsules add to the daemon's Deno flags: the `net`
 * values of their grants, the executables that run outside bubblewrap
 * by the operator's choice, and the absolute paths an MCP capsule's servers
 * are granted (read only: the daemon checks each root for symlinks leaving
 * it before every launch and the gate judges the broker's checks there; the
 * server itself reads and writes them under its own permissions). Only capsules whose signed install record
 * verifies count (the same `collectCapsuleDirs` the kernel boots with); a
 * capsule with a value that cannot be a flag entry is left out whole.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import type { PrincipalId } from "../core/ids.ts";
import type { Logger } from "../core/ports.ts";
import { collectCapsuleDirs } from "../capsule/registry/collect_dirs.ts";
import type { CapsuleDir } from "../capsule/manifest/load_capsule_dir.ts";
import { UNSHARE_PATH } from "../capsule/sandbox/sandbox_env.ts";
import {
  astridHomePaths,
  createDenoFs,
  createStderrLogger,
} from "../host/mod.ts";
import { VERSION } from "../../version.ts";
import { readRuntimeKey } from "./home_config.ts";
import { type FlagEntry, FlagList } from "./deno_flag_list.ts";
import { netValues, parseNetGrant } from "./net_flag_entries.ts";

/** An installed capsule whose grants do not count (it would not load either). */
export interface SkippedCapsule {
  readonly capsule: string;
  readonly reason: string;
}

/**
 * The installed capsules of a principal whose install records verify with
 * the runtime key (none when there is no key yet).
 *
 * @param o The home, the environment, the principal and a logger.
 * @returns The admitted directories and the refused ones.
 * @throws {KernelError} `KEY_PERMISSIONS_TOO_OPEN`, `KEY_INVALID`, `HOME_INVALID`.
 */
export async function installedCapsules(o: {
  readonly homeRoot: string;
  readonly env: Readonly<Record<string, string>>;
  readonly principal: PrincipalId;
  readonly logger?: Logger;
}): Promise<{ dirs: CapsuleDir[]; skipped: SkippedCapsule[] }> {
  const home = astridHomePaths(o.homeRoot);
  const vars: Record<string, string> = { ...o.env, ASTRID_HOME: home.root };
  let key;
  try {
    key = await readRuntimeKey({
      env: { get: (n) => Object.hasOwn(vars, n) ? vars[n] : undefined },
      principal: o.principal,
    });
  } catch (err) {
    if (err instanceof KernelError && err.code === "KEY_NOT_FOUND") {
      return { dirs: [], skipped: [] };
    }
    throw err;
  }
  const { dirs, refused } = await collectCapsuleDirs({
    fs: createDenoFs(),
    logger: o.logger ?? createStderrLogger({ level: "error" }),
    kernelVersion: VERSION,
    trust: { keyId: key.keyId, publicKey: key.publicKey },
  }, [home.home(o.principal).capsules]);
  return {
    dirs,
    skipped: refused.map((r) => ({
      capsule: r.capsule,
      reason: `${r.code}: ${r.reason}`,
    })),
  };
}

/** What the capsules add. */
export interface CapsuleFlagGrants {
  /** Absolute `fs_read`/`fs_write` roots of MCP capsules (read only). */
  readonly read: FlagEntry[];
  readonly net: FlagEntry[];
  readonly run: FlagEntry[];
  /** A capsule grants net `*`. */
  readonly anyNet: boolean;
  /** A grant names a host (the DNS servers are needed). */
  readonly named: boolean;
  readonly notes: string[];
  readonly skipped: SkippedCapsule[];
}

/**
 * Collects the flag values of the capsules' grants.
 *
 * @param capsules Admitted installed capsules.
 * @param o `resolve`: a host name's addresses; `unsandboxed`: spawned
 *   commands run without bubblewrap (none usable and
 *   `security.allow_unsandboxed_spawn`).
 * @returns The values with reasons.
 */
export async function capsuleFlagGrants(
  capsules: readonly CapsuleDir[],
  o: {
    readonly resolve: (host: string) => Promise<readonly string[]>;
    readonly unsandboxed: boolean;
  },
): Promise<CapsuleFlagGrants> {
  const net = new FlagList();
  const run = new FlagList();
  const read = new FlagList();
  // Every granted name is looked up at once (each lookup can take tens of
  // milliseconds on a real network); the loop below reads the answers.
  const answers = new Map<string, Promise<readonly string[]>>();
  const resolve = (host: string) => {
    let answer = answers.get(host);
    if (answer === undefined) {
      answer = o.resolve(host);
      answers.set(host, answer);
    }
    return answer;
  };
  for (const c of capsules) {
    for (const entry of c.manifest.capabilities.net) {
      const grant = parseNetGrant(entry);
      if (grant.kind === "name") {
        resolve(grant.host).catch(() => {/* silent-ok: read in the loop */});
      }
    }
  }
  const out = {
    anyNet: false,
    named: false,
    notes: [] as string[],
    skipped: [] as SkippedCapsule[],
  };
  for (const c of capsules) {
    const name = c.manifest.package.name;
    const source = `capsule '${name}'`;
    const local = {
      net: new FlagList(),
      run: new FlagList(),
      read: new FlagList(),
    };
    let anyNet = false;
    let named = false;
    try {
      for (const entry of c.manifest.capabilities.net) {
        const why = `capsule '${name}' grants net '${entry}'`;
        const grant = parseNetGrant(entry);
        if (grant.kind === "any") {
          anyNet = true;
          continue;
        }
        named ||= grant.kind === "name";
        for (const v of await netValues(grant, why, resolve, true)) {
          local.net.add(v.value, v.reason, source);
        }
      }
      if (c.manifest.capabilities.host_process.length > 0) {
        local.run.add(
          UNSHARE_PATH,
          `capsule '${name}' may spawn processes: the overlay line (unshare -Urm)`,
          source,
        );
        for (
          const line of o.unsandboxed
            ? c.manifest.capabilities.host_process
            : []
        ) {
          local.run.add(
            line.split(/\s+/)[0]!,
            `capsule '${name}' grants host_process '${line}' and security.allow_unsandboxed_spawn runs it without bubblewrap`,
            source,
          );
        }
      }
      if (c.manifest.mcp_servers.length > 0) {
        const caps = c.manifest.capabilities;
        for (const entry of [...caps.fs_read, ...caps.fs_write]) {
          // cwd:// and * are the workspace roots, home:// is inside the
          // home; a '..' component is refused at launch anyway.
          if (!path.posix.isAbsolute(entry)) continue;
          if (entry.split("/").includes("..")) continue;
          local.read.add(
            path.posix.normalize(entry).replace(/(.)\/+$/, "$1"),
            `capsule '${name}' grants its MCP servers '${entry}' (the daemon checks it before each launch)`,
            source,
          );
        }
      }
      for (const server of c.manifest.mcp_servers) {
        if (server.type !== "stdio") continue; // remote: no process to run
        const isDeno = server.command === "deno" ||
          path.posix.basename(server.command) === "deno";
        if (isDeno || c.meta.unconfined === undefined) continue;
        local.run.add(
          server.command,
          `capsule '${name}' runs MCP server '${server.id}' unconfined (approved at install)`,
          source,
        );
      }
    } catch (err) {
      if (!(err instanceof KernelError) || err.code !== "CONFIG_INVALID") {
        throw err;
      }
      out.skipped.push({ capsule: name, reason: err.message });
      continue;
    }
    if (anyNet) {
      out.anyNet = true;
      out.notes.push(
        `capsule '${name}' grants net '*': the daemon may reach every host`,
      );
    }
    out.named ||= named;
    for (const e of local.net.entries()) net.add(e.value, e.reason, source);
    for (const e of local.run.entries()) run.add(e.value, e.reason, source);
    for (const e of local.read.entries()) read.add(e.value, e.reason, source);
  }
  return {
    read: read.entries(),
    net: net.entries(),
    run: run.entries(),
    ...out,
  };
}
