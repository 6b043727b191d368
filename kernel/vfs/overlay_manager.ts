/**
 * One shared overlay per (principal, session), and the session's file view.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import {
  parsePrincipalId,
  parseSessionId,
  type PrincipalId,
  type SessionId,
} from "../core/ids.ts";
import { createBlake3Hasher } from "../crypto/blake3.ts";
import type { Blake3Hasher } from "../crypto/blake3.ts";
import { DirectMount } from "./direct_mount.ts";
import { Overlay } from "./overlay.ts";
import type { OverlayDeps } from "./overlay_types.ts";
import { SessionVfs } from "./session_vfs.ts";

/** Options of {@linkcode OverlayManager}. */
export interface OverlayManagerOptions {
  /** The parent of every principal home: `<ASTRID_HOME>/home`. */
  readonly homes: string;
  /**
   * Where overlays live instead of the principal homes: `<root>/<principal>/<session>`
   * (`cluster.overlay_root`, storage every node of a cluster mounts, so a
   * session can move between nodes). The `home://` mount stays in `homes`.
   */
  readonly overlayRoot?: string;
}

/** Options of {@linkcode OverlayManager.forSession}. */
export interface ForSessionOptions {
  /** The session's workspace root. */
  readonly workspace: string;
  /** Cancels opening. */
  readonly signal?: AbortSignal;
}

/**
 * Opens overlays at `<homes>/<principal>/.local/overlay/<session>/` and hands
 * every caller of the same session the same instance, so two capsules of a
 * session see each other's writes; different sessions never share one.
 *
 * @example Two capsules, one session
 * ```ts
 * import assert from "node:assert/strict";
 * import { OverlayManager } from "./overlay_manager.ts";
 * import { createDenoFs } from "../host/deno_fs.ts";
 * import type { PrincipalId, SessionId } from "../core/ids.ts";
 * const ws = await Deno.makeTempDir();
 * const home = await Deno.makeTempDir();
 * const manager = new OverlayManager({
 *   fs: createDenoFs(),
 *   gate: { decide: () => Promise.reject(new Error("unused")) },
 *   audit: { append: () => Promise.resolve() },
 * }, { homes: `${home}/home` });
 * const p = "default" as PrincipalId;
 * const s = "00000000-0000-4000-8000-000000000001" as SessionId;
 * const [a, b] = await Promise.all([
 *   manager.forSession(p, s, { workspace: ws }),
 *   manager.forSession(p, s, { workspace: ws }),
 * ]);
 * assert.equal(a, b);
 * await Deno.remove(ws, { recursive: true });
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export class OverlayManager {
  #deps: OverlayDeps;
  #homes: string;
  #overlayRoot: string | undefined;
  #open = new Map<string, Promise<Overlay>>();
  #hasher: Promise<Blake3Hasher> | null = null;

  /**
   * Creates a manager; overlays open lazily.
   *
   * @param deps What every overlay needs.
   * @param options Where principal homes live.
   * @throws {TypeError} When `homes` is not absolute.
   */
  constructor(deps: OverlayDeps, options: OverlayManagerOptions) {
    if (!options.homes.startsWith("/")) {
      throw new TypeError("OverlayManager needs an absolute homes directory");
    }
    this.#deps = deps;
    this.#homes = options.homes.replace(/\/+$/, "");
    if (
      options.overlayRoot !== undefined && !options.overlayRoot.startsWith("/")
    ) {
      throw new TypeError("OverlayManager needs an absolute overlay root");
    }
    this.#overlayRoot = options.overlayRoot?.replace(/\/+$/, "");
  }

  /**
   * Where a session's overlay lives.
   *
   * @param principal The principal.
   * @param session The session.
   * @returns `<homes>/<principal>/.local/overlay/<session>`, or
   *   `<overlayRoot>/<principal>/<session>`.
   * @throws {KernelError} `INVALID_ID` for a malformed id.
   */
  overlayDir(principal: PrincipalId, session: SessionId): string {
    if (this.#overlayRoot !== undefined) {
      return `${this.#overlayRoot}/${parsePrincipalId(principal)}/${
        parseSessionId(session)
      }`;
    }
    return `${this.#home(principal)}/.local/overlay/${parseSessionId(session)}`;
  }

  /**
   * The session's overlay, opened once and shared.
   *
   * @param principal The principal.
   * @param session The session.
   * @param options The workspace.
   * @returns The shared overlay.
   * @throws {KernelError} `INVALID_INPUT` when the session's overlay belongs to another workspace;
   *   `INVALID_ID`; whatever {@linkcode Overlay.open} throws.
   */
  async forSession(
    principal: PrincipalId,
    session: SessionId,
    options: ForSessionOptions,
  ): Promise<Overlay> {
    const dir = this.overlayDir(principal, session);
    let opening = this.#open.get(dir);
    if (opening === undefined) {
      opening = this.#openOverlay(principal, session, dir, options);
      this.#open.set(dir, opening);
      opening.catch(() => this.#open.delete(dir));
    }
    const overlay = await opening;
    const wanted = await this.#deps.fs.realPath(options.workspace);
    if (overlay.workspace !== wanted) {
      throw new KernelError(
        "INVALID_INPUT",
        `Cannot use the overlay of session ${session} with workspace '${wanted}' as it belongs to '${overlay.workspace}'`,
      );
    }
    return overlay;
  }

  /**
   * The session's file view over guest paths (overlay, `home://`, `/tmp`).
   *
   * @param principal The principal.
   * @param session The session.
   * @param options The workspace.
   * @returns The view.
   * @throws {KernelError} As {@linkcode OverlayManager.forSession}.
   */
  async vfs(
    principal: PrincipalId,
    session: SessionId,
    options: ForSessionOptions,
  ): Promise<SessionVfs> {
    const overlay = await this.forSession(principal, session, options);
    const home = this.#home(principal);
    const fs = this.#deps.fs;
    const homeMount = (await fs.stat(home))?.isDirectory
      ? await DirectMount.open(fs, home)
      : null;
    const alias = options.workspace.replace(/(.)\/+$/, "$1");
    return new SessionVfs({
      workspace: overlay,
      workspaceRoots: [...new Set([overlay.workspace, alias])],
      roots: {
        workspace: overlay.workspace,
        home,
        tmp: `${home}/.local/tmp`,
      },
      home: homeMount,
      tmp: () => DirectMount.open(fs, `${home}/.local/tmp`, { create: true }),
    });
  }

  /**
   * Forgets the shared instance of a session (the next call opens it again from disk).
   *
   * @param principal The principal.
   * @param session The session.
   */
  release(principal: PrincipalId, session: SessionId): void {
    this.#open.delete(this.overlayDir(principal, session));
  }

  #home(principal: PrincipalId): string {
    return `${this.#homes}/${parsePrincipalId(principal)}`;
  }

  async #openOverlay(
    principal: PrincipalId,
    session: SessionId,
    dir: string,
    options: ForSessionOptions,
  ): Promise<Overlay> {
    this.#hasher ??= this.#deps.hasher
      ? Promise.resolve(this.#deps.hasher)
      : createBlake3Hasher();
    const hasher = await this.#hasher;
    return await Overlay.open({ ...this.#deps, hasher }, {
      workspace: options.workspace,
      dir,
      principal,
      session,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}
