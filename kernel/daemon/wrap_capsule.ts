/**
 * The kernel side of `astrid mcp wrap`: a wrapped MCP server IS an MCP
 * capsule. This module checks a wrap manifest with the checks every
 * installed MCP capsule gets, and compares a wrap source directory with the
 * installed capsule of the same name, so the CLI can reuse an unchanged
 * install and refuse a changed one.
 *
 * Security model: {@linkcode checkWrapManifest} parses the manifest with the
 * kernel's parser (unknown keys, bad values refused) and derives each
 * server's launch with the engine's own `denoLaunchArgs`, so a command the
 * engine would refuse (`deno` with its own flags, a remote or out-of-capsule
 * script, a reserved env name, a malformed host) is refused before anything
 * is installed. {@linkcode compareWrapInstall} admits the installed capsule
 * exactly as boot does (signed record, runtime key, every pinned file) and
 * calls it `same` only when the source's pins and grants equal the recorded
 * ones and the record holds no `unconfined` approval; anything else is
 * `changed` or `refused` — never silently reused.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError } from "../core/errors.ts";
import { canonicalize } from "../core/canonical_json.ts";
import {
  manifestError,
  parseManifest,
} from "../capsule/manifest/parse_manifest.ts";
import type { CapsuleManifest } from "../capsule/manifest/manifest_types.ts";
import { hashPinnedFiles } from "../capsule/manifest/pinned_files.ts";
import { recordedGrants } from "../capsule/manifest/write_meta.ts";
import { grantsFromManifest } from "../capsule/manifest/grants_from_manifest.ts";
import { denoLaunchArgs } from "../capsule/engines/mcp/launch_flags.ts";
import { VERSION } from "../../version.ts";
import { DEFAULT_PRINCIPAL } from "../core/ids.ts";
import type { Logger } from "../core/ports.ts";
import { createDenoFs } from "../host/mod.ts";
import type { HomeOptions } from "./boot.ts";
import { kernelPaths, readRuntimeKey } from "./home_config.ts";
import {
  installedCapsulesIn,
  type InventoryDeps,
} from "./installed_capsules.ts";

const SILENT: Logger = { log() {}, child: () => SILENT };

/** What {@linkcode compareWrapInstall} reads (no store: the daemon may hold it). */
export interface WrapInventory extends InventoryDeps {
  /** The principal's capsule directory. */
  readonly capsulesRoot: string;
  /** `ASTRID_HOME`, replaced by its name in reasons. */
  readonly homeRoot: string;
}

/**
 * The real {@linkcode WrapInventory} of a home: its file system, the
 * default principal's capsule directory and the runtime key — without
 * opening the state store, so it works while a daemon runs.
 *
 * @param options The environment naming the home.
 * @returns The inventory deps, or `null` when the home has no runtime key
 *   yet (nothing can be installed).
 * @throws {KernelError} `KEY_PERMISSIONS_TOO_OPEN`, `KEY_INVALID`, `HOME_INVALID`.
 */
export async function wrapInventory(
  options: HomeOptions = {},
): Promise<WrapInventory | null> {
  const { home } = kernelPaths(options);
  let key;
  try {
    key = await readRuntimeKey(options);
  } catch (err) {
    if (KernelError.is(err) && err.code === "KEY_NOT_FOUND") return null;
    throw err;
  }
  return {
    fs: createDenoFs(),
    logger: SILENT,
    trust: { keyId: key.keyId, publicKey: key.publicKey },
    capsulesRoot: home.home(DEFAULT_PRINCIPAL).capsules,
    homeRoot: home.root,
  };
}

/** How a wrap source relates to what is installed ({@linkcode compareWrapInstall}). */
export type WrapInstallState =
  | { readonly state: "absent"; readonly capsule: string }
  | {
    readonly state: "same";
    readonly capsule: string;
    /** The installed directory. */
    readonly dir: string;
  }
  | {
    /** Installed, but its record differs from the source (or it would not load). */
    readonly state: "changed" | "refused";
    readonly capsule: string;
    /** What differs, or why boot refuses it (no host path). */
    readonly reason: string;
  };

/**
 * Parses a wrap manifest and applies the MCP engine's launch checks to each
 * of its servers.
 *
 * @param text The `Capsule.toml` text.
 * @param options The file name (messages) and the capsule directory it
 *   will be installed from (scripts must lie inside it).
 * @returns The validated manifest.
 * @throws {KernelError} `MANIFEST_INVALID` for a manifest the kernel refuses,
 *   one without `[[mcp_server]]` or with a `[[component]]`, or a server
 *   command the engine would refuse to launch.
 *
 * @example Refuse a server that brings its own Deno flags
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkWrapManifest } from "./wrap_capsule.ts";
 * const toml = '[package]\nname = "w"\nversion = "1.0.0"\n' +
 *   '[capabilities]\nhost_process = ["deno run -A npm:x@1.0.0"]\n' +
 *   '[[mcp_server]]\nid = "s"\ncommand = "deno"\nargs = ["run", "-A", "npm:x@1.0.0"]\n';
 * assert.throws(() => checkWrapManifest(toml, { file: "Capsule.toml", dir: "/w" }), /own flags/);
 * ```
 */
export function checkWrapManifest(
  text: string,
  options: { readonly file: string; readonly dir: string },
): CapsuleManifest {
  const parsed = parseManifest(text, {
    file: options.file,
    kernelVersion: VERSION,
  });
  if (!parsed.ok) throw manifestError(parsed.issues);
  const manifest = parsed.value;
  if (manifest.mcp_servers.length === 0 || manifest.component !== null) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Cannot wrap capsule '${manifest.package.name}': its manifest must declare [[mcp_server]] and no [[component]]`,
    );
  }
  const grants = grantsFromManifest(manifest);
  for (const server of manifest.mcp_servers) {
    if (server.type !== "stdio") {
      throw new KernelError(
        "MANIFEST_INVALID",
        `Cannot wrap capsule '${manifest.package.name}': server '${server.id}' is a remote server (url) — install it as a capsule; a wrap confines a local command`,
      );
    }
    denoLaunchArgs(server, grants, {
      denoPath: "/usr/bin/deno",
      capsuleDir: path.resolve(options.dir),
      workspace: "/",
      mode: server.mode ?? "broker",
    });
  }
  return manifest;
}

/**
 * Compares a wrap source directory with the installed capsule of the same
 * name, admitting the installed one exactly as boot does.
 *
 * @param inventory Where the installed capsules are and the key that
 *   signs their records ({@linkcode wrapInventory}); `null`: none installed.
 * @param sourceDir The directory holding the wrap's `Capsule.toml`.
 * @returns `absent`, `same`, `changed` (pins, grants or `unconfined`
 *   differ) or `refused` (boot would not load the installed capsule).
 * @throws {KernelError} `MANIFEST_INVALID` for an invalid source manifest;
 *   `CAPSULE_INTEGRITY` for a source file that cannot be pinned.
 */
export async function compareWrapInstall(
  inventory: WrapInventory | null,
  sourceDir: string,
): Promise<WrapInstallState> {
  const fs = inventory?.fs ?? createDenoFs();
  const file = path.join(sourceDir, "Capsule.toml");
  const manifest = checkWrapManifest(await fs.readTextFile(file), {
    file,
    dir: sourceDir,
  });
  const capsule = manifest.package.name;
  if (inventory === null) return { state: "absent", capsule };
  const found = await installedCapsulesIn(inventory, inventory.capsulesRoot);
  const refused = found.refused.find((r) => r.capsule === capsule);
  if (refused !== undefined) {
    return {
      state: "refused",
      capsule,
      reason: `${refused.code}: ${refused.reason}`.replaceAll(
        inventory.homeRoot,
        "$ASTRID_HOME",
      ),
    };
  }
  const installed = found.installed.find((c) =>
    c.manifest.package.name === capsule
  );
  if (installed === undefined) return { state: "absent", capsule };
  const pins = await hashPinnedFiles(fs, sourceDir, { manifest });
  const recorded = installed.meta.artifacts;
  const files = new Set([...Object.keys(pins), ...Object.keys(recorded)]);
  for (const f of [...files].sort()) {
    if (pins[f] !== recorded[f]) {
      return {
        state: "changed",
        capsule,
        reason: `'${f}' differs from the installed, approved one`,
      };
    }
  }
  if (
    canonicalize(recordedGrants(manifest)) !==
      canonicalize(installed.meta.grants)
  ) {
    return { state: "changed", capsule, reason: "its grants differ" };
  }
  if (installed.meta.unconfined !== undefined) {
    return {
      state: "changed",
      capsule,
      reason: "the installed capsule was approved to run unconfined",
    };
  }
  return { state: "same", capsule, dir: installed.dir };
}
