/**
 * Private: the in-memory state of one overlay — its roots, its entries (the
 * dirty set, mirrored in `manifest.json`), the per-path lock — and the
 * physical reads of the lower layer every operation shares.
 *
 * Changes are persisted as one appended journal line per batch and
 * compacted into the manifest when the journal outgrows it (see
 * `_journal.ts`).
 *
 * Ordering rule that keeps a crash consistent: a change to the entries is
 * persisted BEFORE the upper file it describes is deleted, and before any
 * write that replaces an upper file. The one exception is a path's first
 * write (no upper file existed): its entry's journal line and its new upper
 * file are written concurrently, and the write returns once both are done.
 * On open, `reconcile` drops file entries whose upper file is missing (the
 * write never happened, or never returned) and deletes upper files that no
 * entry claims (their removal or commit was persisted, the deletion did not
 * happen — or a first write's journal line never landed, and the write never
 * returned).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileInfo, FileSystem, Logger } from "../core/ports.ts";
import type { Blake3Hasher } from "../crypto/blake3.ts";
import { escapeError, invalidOpError } from "./_errors.ts";
import { KeyedLock } from "./_keyed_lock.ts";
import { type Change, MetadataWriter } from "./_journal.ts";
import type { Base, Entry, ManifestData } from "./_manifest.ts";

/** Largest file the overlay copies, hashes or reads (50 MiB, as 0.5.1). */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;

/** The lower state of a path, or why it cannot be used (a parent is not a real directory). */
export type LowerState =
  | Base
  | {
    readonly type: "blocked";
    readonly why: string;
    /** The blocking component is a symlink (never written through). */
    readonly symlink: boolean;
  };

/** Everything the operation modules share. */
export class OverlayState {
  readonly fs: FileSystem;
  readonly logger: Logger | undefined;
  readonly hasher: Blake3Hasher;
  /** The canonical workspace root (the lower layer). */
  readonly lowerRoot: string;
  /** Absolute roots a symlink target may name the workspace by. */
  readonly roots: readonly string[];
  /** The canonical overlay directory (holds `upper/` and the manifest). */
  readonly dir: string;
  /** `<dir>/upper`. */
  readonly upperRoot: string;
  readonly entries: Map<string, Entry> = new Map();
  readonly lock: KeyedLock = new KeyedLock();
  #children = new Map<string, Set<string>>();
  #version = 0;
  #saved = 0;
  #running: Promise<void> | null = null;
  #broken: unknown = undefined;
  /** Keys changed since the last journal line or manifest save. */
  #dirty = new Set<string>();
  #writer: MetadataWriter;

  constructor(init: {
    fs: FileSystem;
    logger: Logger | undefined;
    hasher: Blake3Hasher;
    lowerRoot: string;
    roots: readonly string[];
    dir: string;
  }) {
    this.fs = init.fs;
    this.logger = init.logger;
    this.hasher = init.hasher;
    this.lowerRoot = init.lowerRoot;
    this.roots = init.roots;
    this.dir = init.dir;
    this.upperRoot = `${init.dir}/upper`;
    this.#writer = new MetadataWriter(init.fs, init.dir);
  }

  /** `<lowerRoot>/<key>`. */
  lowerPath(key: string): string {
    return key === "" ? this.lowerRoot : `${this.lowerRoot}/${key}`;
  }

  /** `<upperRoot>/<key>`. */
  upperPath(key: string): string {
    return key === "" ? this.upperRoot : `${this.upperRoot}/${key}`;
  }

  /** Sets an entry (in memory; call {@linkcode persist} before acting on it). */
  setEntry(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    const { parent, name } = splitKey(key);
    let names = this.#children.get(parent);
    if (names === undefined) this.#children.set(parent, names = new Set());
    names.add(name);
    this.#dirty.add(key);
    this.#version++;
  }

  /** Deletes an entry (in memory). */
  deleteEntry(key: string): void {
    if (!this.entries.delete(key)) return;
    const { parent, name } = splitKey(key);
    const names = this.#children.get(parent);
    names?.delete(name);
    if (names?.size === 0) this.#children.delete(parent);
    this.#dirty.add(key);
    this.#version++;
  }

  /** Names of the entries directly below `key`. */
  childNames(key: string): readonly string[] {
    return [...(this.#children.get(key) ?? [])];
  }

  /** Keys of every entry at or below `key`. */
  keysUnder(key: string): string[] {
    if (key === "") return [...this.entries.keys()];
    return [...this.entries.keys()].filter((k) =>
      k === key || k.startsWith(`${key}/`)
    );
  }

  /** Throws when an earlier save failed: memory and disk may differ until reopened. */
  assertHealthy(): void {
    if (this.#broken !== undefined) {
      throw new KernelError(
        "HOST_IO",
        `Cannot use the overlay '${this.dir}' as saving its manifest failed; open it again`,
        { cause: this.#broken },
      );
    }
  }

  /** Grows with every change to the entries. */
  get version(): number {
    return this.#version;
  }

  /**
   * Marks the current entries as already on disk (just loaded).
   *
   * @param manifestChars The size of the manifest on disk.
   */
  markSaved(manifestChars: number): void {
    this.#saved = this.#version;
    this.#dirty.clear();
    this.#writer.reset(manifestChars);
  }

  /**
   * Resolves once every change made so far is on disk (writes are coalesced):
   * one journal line, or a compaction into the manifest when the journal has
   * grown larger than the manifest, when `compact` is set, or when the file
   * system cannot append.
   */
  async persist(options: { compact?: boolean } = {}): Promise<void> {
    const target = this.#version;
    while (this.#saved < target) {
      this.assertHealthy();
      if (this.#running !== null) {
        await this.#running;
        continue;
      }
      const version = this.#version;
      this.#running = this.#save(options.compact ?? false).then(
        () => {
          this.#saved = Math.max(this.#saved, version);
        },
        (err) => {
          this.#broken = err;
          throw err;
        },
      ).finally(() => {
        this.#running = null;
      });
      await this.#running;
    }
  }

  async #save(compact: boolean): Promise<void> {
    const changes: Change[] = [...this.#dirty].map((k) => [
      k,
      this.entries.get(k) ?? null,
    ]);
    this.#dirty.clear();
    await this.#writer.write(changes, () => this.snapshot(), compact);
  }

  /** The manifest content for the current entries. */
  snapshot(): ManifestData {
    const keys = [...this.entries.keys()].sort();
    return {
      version: 1,
      workspace: this.lowerRoot,
      entries: Object.fromEntries(keys.map((k) => [k, this.entries.get(k)!])),
    };
  }

  /**
   * The physical state of the lower path (no overlay view, no symlink
   * followed): every parent must be a real directory, else `blocked`.
   */
  async lowerState(key: string, signal?: AbortSignal): Promise<LowerState> {
    if (key === "") return { type: "dir" };
    const parts = key.split("/");
    let path = this.lowerRoot;
    for (let i = 0; i < parts.length - 1; i++) {
      path = `${path}/${parts[i]}`;
      const info = await this.fs.lstat(path);
      if (info === null) return { type: "absent" };
      if (!info.isDirectory) {
        return {
          type: "blocked",
          why: `'${parts.slice(0, i + 1).join("/")}' is ${kindOf(info)}`,
          symlink: info.isSymlink,
        };
      }
    }
    const full = this.lowerPath(key);
    const info = await this.fs.lstat(full);
    if (info === null) return { type: "absent" };
    if (info.isSymlink) {
      return { type: "symlink", target: await this.fs.readLink(full) };
    }
    if (info.isDirectory) return { type: "dir" };
    const data = await this.readLowerFile(key, key, signal);
    return {
      type: "file",
      hash: this.hasher.hashHex(data.bytes),
      size: data.bytes.length,
      mtime_ms: data.info.mtimeMs,
    };
  }

  /**
   * Reads `<lowerRoot>/<key>` (a canonical key: no symlink expected on the
   * way) and proves, through the open descriptor's real path, that the bytes
   * came from exactly there.
   */
  async readLowerFile(
    key: string,
    shown: string,
    signal?: AbortSignal,
  ): Promise<{ bytes: Uint8Array; info: FileInfo }> {
    return await this.readExact(this.lowerPath(key), shown, signal);
  }

  /** Reads `<upperRoot>/<key>` the same way. */
  async readUpperFile(
    key: string,
    shown: string,
    signal?: AbortSignal,
  ): Promise<{ bytes: Uint8Array; info: FileInfo }> {
    return await this.readExact(this.upperPath(key), shown, signal);
  }

  async readExact(
    path: string,
    shown: string,
    signal: AbortSignal | undefined,
  ): Promise<{ bytes: Uint8Array; info: FileInfo }> {
    const got = await this.fs.readFileChecked!(path, {
      maxBytes: MAX_FILE_BYTES,
      ...(signal ? { signal } : {}),
    });
    switch (got.kind) {
      case "file":
        if (got.realPath !== path) {
          throw escapeError(
            shown,
            "was swapped for a symlink or moved while it was being read",
          );
        }
        return { bytes: got.data, info: got.info };
      case "missing":
        throw new KernelError(
          "NOT_FOUND",
          `Cannot read '${shown}' as it vanished while being read`,
        );
      case "symlink":
      case "replaced":
        throw escapeError(
          shown,
          "was swapped for a symlink or moved while it was being read",
        );
      case "not_file":
        throw invalidOpError(shown, "read", "it is not a regular file");
      case "too_large":
        throw invalidOpError(
          shown,
          "read",
          `it is larger than the ${MAX_FILE_BYTES} byte limit`,
        );
    }
  }
}

/** Splits `a/b/c` into parent `a/b` and name `c` (`""` parent for top level). */
export function splitKey(key: string): { parent: string; name: string } {
  const i = key.lastIndexOf("/");
  return i < 0
    ? { parent: "", name: key }
    : { parent: key.slice(0, i), name: key.slice(i + 1) };
}

/** A short description of what a FileInfo is, for messages. */
export function kindOf(info: FileInfo): string {
  if (info.isSymlink) return "a symlink";
  if (info.isDirectory) return "a directory";
  if (info.isFile) return "a file";
  return "a special file";
}
