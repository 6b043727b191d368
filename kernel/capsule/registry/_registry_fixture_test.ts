/**
 * Installs capsules into temp dirs (files + pinned meta.json) and builds a
 * registry over a real bus and the static engine, for registry tests.
 */
import * as path from "node:path";
import type { CapsuleId } from "../../core/ids.ts";
import { createDenoFs } from "../../host/deno_fs.ts";
import { FakeClock } from "../../testing/fake_clock.ts";
import { MemoryLogger } from "../../testing/memory_logger.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import { Bus } from "../../bus/bus.ts";
import type { CapsuleGrants } from "../../security/manifest_grant.ts";
import type { Engine } from "../engine.ts";
import { createStaticEngine } from "../engines/static/static_engine.ts";
import { parseManifest } from "../manifest/parse_manifest.ts";
import { writeMeta } from "../manifest/write_meta.ts";
import { CapsuleRegistry } from "./registry.ts";
import { keyPairFromSeed } from "../../crypto/key_pair.ts";

/** The test runtime key that signs install records. */
export const KEY = keyPairFromSeed(new Uint8Array(32).fill(8));

export const KERNEL_VERSION = "0.1.0";
export const fs = createDenoFs();

/** Writes a capsule dir (`Capsule.toml` + files) and pins it in meta.json. */
export async function install(
  root: string,
  name: string,
  toml: string,
  files: Record<string, string> = {},
) {
  const dir = path.join(root, name);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path.join(dir, "Capsule.toml"), toml);
  for (const [f, content] of Object.entries(files)) {
    await Deno.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await Deno.writeTextFile(path.join(dir, f), content);
  }
  const parsed = parseManifest(toml, {
    file: path.join(dir, "Capsule.toml"),
    kernelVersion: KERNEL_VERSION,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  await writeMeta(fs, {
    dir,
    manifest: parsed.value,
    now: 1,
    approval: { approved_at: 1, audit_entry: "test" },
    signer: KEY,
  });
  return dir;
}

/** A static capsule manifest with one context file and optional imports/exports. */
export function staticToml(name: string, extra = ""): string {
  return `[package]\nname = "${name}"\nversion = "1.0.0"\n\n[[context_file]]\nname = "about"\nfile = "about.md"\n${extra}`;
}

export function makeRegistry(
  engines: Partial<Record<"js" | "wasm" | "static", Engine>> = {},
) {
  const clock = new FakeClock(1_000);
  const logger = new MemoryLogger();
  const bus = new Bus({ clock, random: new SeededRandom(5n), logger });
  const grants = new Map<CapsuleId, CapsuleGrants>();
  const aborted: CapsuleId[] = [];
  const registry = new CapsuleRegistry({
    fs,
    clock,
    random: new SeededRandom(6n),
    logger,
    bus,
    engines: { static: createStaticEngine(), ...engines },
    setGrants: (id, g) => (g ? grants.set(id, g) : grants.delete(id)),
    hostFor: (id, _config, signal) => {
      signal.addEventListener("abort", () => aborted.push(id));
      return () => Promise.resolve(null);
    },
    kernelVersion: KERNEL_VERSION,
    trust: { keyId: KEY.keyId, publicKey: KEY.publicKey },
    context: {
      principal: "default",
      session: "00000000-0000-4000-8000-000000000001",
    },
  });
  return { registry, bus, clock, logger, grants, aborted };
}
