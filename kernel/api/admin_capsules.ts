/**
 * The capsule routes of the admin API: list, tree, install (with progress),
 * update, remove and reload. Installs go through `installBuiltCapsule` — the
 * same path as `astrid capsule install` (build lock checked, files pinned,
 * approval audited, record signed with the runtime key).
 *
 * Security model: the inventory admits capsules exactly as boot does, so a
 * tampered record is listed as refused; no host path of the daemon's home
 * appears in an answer (refusal reasons and errors are redacted); an install
 * source must be an absolute directory holding a regular `Capsule.toml`
 * (no symlink, so an install cannot be pointed at another file to read it
 * back through a parse error); install failures stream only their code and a
 * redacted message. Mutations run one at a time.
 *
 * @module
 */
import * as path from "node:path";
import { KernelError, redactPaths } from "../core/errors.ts";
import {
  installBuiltCapsule,
  readCapsuleManifest,
} from "../daemon/capsule_build.ts";
import {
  installedCapsules,
  installedTree,
  recordedSource,
  removeCapsule,
} from "../daemon/installed_capsules.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import type { Refusal } from "../capsule/registry/collect_dirs.ts";
import { describeGrants } from "../security/describe_grants.ts";
import type { ApiDeps } from "./api.ts";
import type { CapsuleInstallBody } from "./contract.ts";
import type {
  CapsuleInfo,
  CapsuleListBody,
  CapsuleRemoveBody,
  CapsuleTreeBody,
  RefusedCapsuleInfo,
} from "./contract_admin.ts";
import { progressStream } from "./progress_stream.ts";
import { jsonResponse, type RouteContext, sseResponse } from "./router.ts";

const MAX_SOURCE = 4096;

function refusedInfo(r: Refusal): RefusedCapsuleInfo {
  return {
    name: r.capsule.slice(0, 128),
    code: r.code,
    reason: redactPaths(r.reason).slice(0, 500),
  };
}

/**
 * Serialises capsule mutations (install, update, remove) of one API.
 */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  #held = 0;
  /** Whether a mutation runs or waits now. */
  get busy(): boolean {
    return this.#held > 0;
  }
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.#held++;
    const next = this.#tail.then(fn, fn).finally(() => this.#held--);
    this.#tail = next.catch(() => {});
    return next;
  }
}

/** The capsule route handlers of one API. */
export interface CapsuleHandlers {
  list(ctx: RouteContext): Promise<Response>;
  tree(ctx: RouteContext): Promise<Response>;
  install(ctx: RouteContext): Promise<Response>;
  update(ctx: RouteContext): Promise<Response>;
  remove(ctx: RouteContext): Promise<Response>;
  reload(ctx: RouteContext): Promise<Response>;
}

function bad(message: string): KernelError {
  return new KernelError("API_BAD_REQUEST", message);
}

function onlyParams(ctx: RouteContext, allowed: readonly string[]): void {
  for (const key of ctx.url.searchParams.keys()) {
    if (!allowed.includes(key)) {
      throw bad(`Unknown query parameter '${key.slice(0, 64)}'`);
    }
  }
}

function flag(ctx: RouteContext, name: string): boolean {
  const v = ctx.url.searchParams.get(name);
  if (v === null || v === "false") return false;
  if (v === "true" || v === "") return true;
  throw bad(`The query parameter '${name}' must be true or false`);
}

/**
 * Checks an install source: an absolute directory (no NUL, bounded) with a
 * regular `Capsule.toml`; `npm:` sources are refused (not supported yet).
 */
async function checkSource(
  kernel: KernelHandle,
  source: string,
): Promise<string> {
  if (source.startsWith("npm:")) {
    throw bad(
      "Installing from npm is not supported yet: install from a capsule directory",
    );
  }
  if (
    source.length > MAX_SOURCE || source.includes("\0") ||
    !path.isAbsolute(source)
  ) {
    throw bad(
      "The field 'source' must be an absolute capsule directory or npm:<package>",
    );
  }
  const dir = path.resolve(source);
  const fs = kernel.ports.fs;
  const [info, manifest] = await Promise.all([
    fs.stat(dir),
    fs.lstat(path.join(dir, "Capsule.toml")),
  ]);
  if (info === null || !info.isDirectory || manifest === null) {
    throw new KernelError(
      "NOT_FOUND",
      "The install source is not a capsule directory (no Capsule.toml)",
    );
  }
  if (!manifest.isFile) {
    throw bad("The install source's Capsule.toml must be a regular file");
  }
  return dir;
}

function installStream(
  kernel: KernelHandle,
  mutex: Mutex,
  dir: string,
  options: { unconfined: boolean; approvedBy: string },
): Response {
  return sseResponse(
    progressStream(
      async (progress, signal) => {
        if (mutex.busy) progress("waiting for other capsule changes to finish");
        const r = await mutex.run(() =>
          installBuiltCapsule(kernel, {
            dir,
            onProgress: progress,
            approvedBy: options.approvedBy,
            unconfined: options.unconfined,
            signal,
          })
        );
        return {
          capsule: r.capsule,
          version: r.version,
          files: r.files,
          built: r.built,
          hook: r.hook,
          unconfined: options.unconfined,
        };
      },
      (r) =>
        `Installed ${r["capsule"]}@${r["version"]} (${
          r["files"]
        } files pinned, record signed); reload the capsules or restart the daemon to use it`,
    ),
  );
}

/**
 * Builds the capsule handlers.
 *
 * @param deps The API's dependencies.
 * @returns The handlers.
 */
export function capsuleHandlers(deps: ApiDeps): CapsuleHandlers {
  const kernel = deps.kernel;
  const mutex = new Mutex();
  const approvedBy = `operator via api (${deps.mode})`;

  return {
    async list(ctx) {
      onlyParams(ctx, []);
      const inventory = await installedCapsules(kernel);
      const capsules: CapsuleInfo[] = inventory.installed.map((c) => ({
        name: c.manifest.package.name,
        version: c.manifest.package.version,
        description: c.manifest.package.description ?? null,
        engine: c.manifest.engine,
        source: c.meta.source ?? null,
        installed_at: c.meta.installed_at,
        updated_at: c.meta.updated_at,
        unconfined: c.meta.unconfined !== undefined,
        grants: describeGrants(c.meta.grants),
      }));
      capsules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const body: CapsuleListBody = {
        capsules,
        refused: inventory.refused.map(refusedInfo),
      };
      return jsonResponse(body);
    },

    async tree(ctx) {
      onlyParams(ctx, []);
      const inventory = await installedCapsules(kernel);
      const resolved = installedTree(inventory);
      const body: CapsuleTreeBody = {
        order: resolved.order,
        tree: resolved.tree,
        unresolved: resolved.refused,
        refused: inventory.refused.map(refusedInfo),
      };
      return jsonResponse(body);
    },

    async install(ctx) {
      onlyParams(ctx, []);
      const raw = await ctx.json();
      const source = raw["source"];
      const unconfined = raw["unconfined"] ?? false;
      if (typeof source !== "string" || source === "") {
        throw bad("The field 'source' must be a non-empty string");
      }
      if (typeof unconfined !== "boolean") {
        throw bad("The field 'unconfined' must be a boolean");
      }
      for (const key of Object.keys(raw)) {
        if (key !== "source" && key !== "unconfined") {
          throw bad(`Unknown field '${key.slice(0, 64)}'`);
        }
      }
      const body: CapsuleInstallBody = { source, unconfined };
      const dir = await checkSource(kernel, body.source);
      return installStream(kernel, mutex, dir, { unconfined, approvedBy });
    },

    async update(ctx) {
      onlyParams(ctx, ["unconfined"]);
      const unconfined = flag(ctx, "unconfined");
      const name = ctx.params["name"] ?? "";
      const source = await recordedSource(kernel, name);
      if (source === null) {
        throw new KernelError(
          "API_BAD_REQUEST",
          `Capsule '${name}' has no recorded source to update from; install it again from its directory`,
        );
      }
      const dir = await checkSource(kernel, source);
      const { manifest } = await readCapsuleManifest(kernel.ports.fs, dir);
      if (manifest.package.name !== name) {
        throw new KernelError(
          "API_BAD_REQUEST",
          `The recorded source of '${name}' now holds capsule '${manifest.package.name}'; install it explicitly`,
        );
      }
      return installStream(kernel, mutex, dir, { unconfined, approvedBy });
    },

    async remove(ctx) {
      onlyParams(ctx, ["force"]);
      const force = flag(ctx, "force");
      const name = ctx.params["name"] ?? "";
      const { dependents } = await mutex.run(() =>
        removeCapsule(kernel, name, { force, approvedBy })
      );
      const body: CapsuleRemoveBody = { removed: name, dependents };
      return jsonResponse(body);
    },

    async reload(ctx) {
      onlyParams(ctx, []);
      await deps.hub.reload();
      return jsonResponse({ reloaded: true });
    },
  };
}
