/**
 * Shared set-up for the VFS tests: real temp directories, the real file
 * system adapter, and a real gate + audit log on Deno KV (`:memory:`).
 */
import type { PrincipalId, SessionId } from "../kernel/core/ids.ts";
import { KernelError } from "../kernel/core/errors.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import {
  type FixtureOptions,
  type GateFixture,
  makeGate,
} from "../kernel/security/_gate_fixture_test.ts";
import { Overlay } from "../kernel/vfs/overlay.ts";
import { OverlayManager } from "../kernel/vfs/overlay_manager.ts";

export const PRINCIPAL = "default" as PrincipalId;
export const SESSION = "00000000-0000-4000-8000-0000000000a1" as SessionId;
export const SESSION_B = "00000000-0000-4000-8000-0000000000b2" as SessionId;
export const RW = { read: true, write: true } as const;

export interface VfsFixture {
  /** The canonical workspace root. */
  ws: string;
  /** `<ASTRID_HOME>` (canonical). */
  astridHome: string;
  /** `<ASTRID_HOME>/home`. */
  homes: string;
  gate: GateFixture;
  manager: OverlayManager;
  /** Opens a fresh overlay instance (as after a restart) over the session's dirs. */
  reopen(session?: SessionId): Promise<Overlay>;
  overlayDir(session?: SessionId): string;
  write(rel: string, text: string): Promise<void>;
  read(rel: string): Promise<string>;
  close(): Promise<void>;
}

export async function makeVfs(
  options: FixtureOptions = { mode: { mode: "yolo" } },
): Promise<VfsFixture> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "astrid_vfs_" }),
  );
  const ws = `${root}/ws`;
  const astridHome = `${root}/astrid`;
  await Deno.mkdir(ws);
  await Deno.mkdir(`${astridHome}/home/${PRINCIPAL}`, { recursive: true });
  const gate = await makeGate(options);
  const deps = { fs: createDenoFs(), gate: gate.gate, audit: gate.audit };
  const homes = `${astridHome}/home`;
  const manager = new OverlayManager(deps, { homes });
  return {
    ws,
    astridHome,
    homes,
    gate,
    manager,
    overlayDir: (session = SESSION) => manager.overlayDir(PRINCIPAL, session),
    reopen: (session = SESSION) =>
      Overlay.open(deps, {
        workspace: ws,
        dir: manager.overlayDir(PRINCIPAL, session),
        principal: PRINCIPAL,
        session,
      }),
    async write(rel, text) {
      const path = `${ws}/${rel}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), {
        recursive: true,
      });
      await Deno.writeTextFile(path, text);
    },
    read: (rel) => Deno.readTextFile(`${ws}/${rel}`),
    async close() {
      await gate.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Runs `fn` with a fixture and always cleans up. */
export async function withVfs(
  fn: (fx: VfsFixture) => Promise<void>,
  options?: FixtureOptions,
): Promise<void> {
  const fx = await makeVfs(options);
  try {
    await fn(fx);
  } finally {
    await fx.close();
  }
}

/** Asserts that `p` rejects with a KernelError of `code`; returns the error. */
export async function rejectsWith(
  p: Promise<unknown>,
  code: string,
): Promise<KernelError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KernelError && err.code === code) return err;
    throw new Error(`expected ${code}, got ${String(err)}`, { cause: err });
  }
  throw new Error(`expected ${code}, but it resolved`);
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The entry names of a directory. */
export async function ls(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
}
