/**
 * Private: the overlay's persisted metadata (`manifest.json` beside `upper/`)
 * — every dirty path with what it is in the upper layer and the lower state
 * it was taken over from (its copy-up base).
 *
 * Written atomically (temp file renamed over the old one) and
 * validated strictly on load: every key must be a normalised relative path,
 * so an edited manifest cannot point a commit outside the workspace.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileSystem } from "../core/ports.ts";
import { joinKey, splitRelPath } from "./rel_path.ts";

/** The lower (workspace) state of a path when the overlay took it over. */
export type Base =
  | { readonly type: "absent" }
  | {
    readonly type: "file";
    /** BLAKE3 hex of the content. */
    readonly hash: string;
    readonly size: number;
    readonly mtime_ms: number | null;
  }
  | { readonly type: "dir" }
  | { readonly type: "symlink"; readonly target: string };

/** What the overlay holds for one path. */
export type Entry =
  | { readonly kind: "file"; readonly base: Base }
  /** `opaque`: created where a whiteout was; the lower content below is hidden. */
  | { readonly kind: "dir"; readonly base: Base; readonly opaque: boolean }
  | { readonly kind: "whiteout"; readonly base: Base };

/** The manifest file's content. */
export interface ManifestData {
  readonly version: 1;
  /** The canonical workspace root the overlay belongs to. */
  readonly workspace: string;
  /** Entries by normalised relative key. */
  readonly entries: Readonly<Record<string, Entry>>;
}

/** The file name of the manifest inside the overlay directory. */
export const MANIFEST_FILE = "manifest.json";
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Loads and validates the manifest; `null` when there is none yet.
 *
 * @param fs The file system.
 * @param dir The overlay directory.
 * @returns The data or `null`.
 * @throws {KernelError} `HOST_IO` when the file is not a valid manifest.
 */
export async function loadManifest(
  fs: FileSystem,
  dir: string,
): Promise<ManifestData | null> {
  const path = `${dir}/${MANIFEST_FILE}`;
  let text: string;
  try {
    text = await fs.readTextFile(path);
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return null;
    throw err;
  }
  try {
    return parseManifest(JSON.parse(text));
  } catch (err) {
    throw new KernelError(
      "HOST_IO",
      `Cannot load the overlay manifest '${path}' as it is invalid: ${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err },
    );
  }
}

/**
 * Writes the manifest atomically: `manifest.json.tmp`, then renamed over the
 * old one. Not flushed to disk: a killed process never leaves a partial
 * manifest; a power loss may lose the latest overlay changes (the agent's
 * unreviewed writes — never workspace files, which commit flushes).
 *
 * @param fs The file system.
 * @param dir The overlay directory.
 * @param data The content.
 * @returns The length of the written JSON text.
 * @throws {KernelError} `HOST_IO` from the host.
 */
export async function saveManifest(
  fs: FileSystem,
  dir: string,
  data: ManifestData,
): Promise<number> {
  const tmp = `${dir}/${MANIFEST_FILE}.tmp`;
  const text = JSON.stringify(data);
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, `${dir}/${MANIFEST_FILE}`);
  return text.length;
}

function parseManifest(raw: unknown): ManifestData {
  const obj = record(raw, "the manifest");
  if (obj.version !== 1) throw new Error(`unknown version ${obj.version}`);
  if (typeof obj.workspace !== "string" || !obj.workspace.startsWith("/")) {
    throw new Error("workspace is not an absolute path");
  }
  const entries: Record<string, Entry> = Object.create(null);
  for (const [key, value] of Object.entries(record(obj.entries, "entries"))) {
    checkKey(key);
    entries[key] = parseEntry(value, key);
  }
  return { version: 1, workspace: obj.workspace, entries };
}

/** Throws unless `key` is a normalised relative path. */
export function checkKey(key: string): void {
  if (joinKey(splitRelPath(key)) !== key) {
    throw new Error(`key '${key}' is not a normalised relative path`);
  }
}

/** Validates one entry read from disk. */
export function parseEntry(raw: unknown, key: string): Entry {
  const obj = record(raw, `entry '${key}'`);
  const base = parseBase(obj.base, key);
  if (obj.kind === "file" || obj.kind === "whiteout") {
    return { kind: obj.kind, base };
  }
  if (obj.kind === "dir" && typeof obj.opaque === "boolean") {
    return { kind: "dir", base, opaque: obj.opaque };
  }
  throw new Error(`entry '${key}' has an unknown kind`);
}

function parseBase(raw: unknown, key: string): Base {
  const obj = record(raw, `base of '${key}'`);
  switch (obj.type) {
    case "absent":
    case "dir":
      return { type: obj.type };
    case "symlink":
      if (typeof obj.target === "string") {
        return { type: "symlink", target: obj.target };
      }
      break;
    case "file":
      if (
        typeof obj.hash === "string" && HEX64.test(obj.hash) &&
        Number.isSafeInteger(obj.size) && (obj.size as number) >= 0 &&
        (obj.mtime_ms === null || typeof obj.mtime_ms === "number")
      ) {
        return {
          type: "file",
          hash: obj.hash,
          size: obj.size as number,
          mtime_ms: obj.mtime_ms as number | null,
        };
      }
      break;
  }
  throw new Error(`base of '${key}' is malformed`);
}

/** `raw` as an object, else throws naming `what`. */
export function record(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${what} is not an object`);
  }
  return raw as Record<string, unknown>;
}
