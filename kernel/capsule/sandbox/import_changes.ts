/**
 * Applies what a sandboxed process changed to the session overlay, one change
 * at a time through a sink the caller gates: in `process_spawn` every write,
 * new directory and delete is its own gate decision (manifest `fs_write`,
 * policy, mode) with its own audit entry — a process cannot change more of
 * the workspace than its capsule could through `fs_write`/`fs_unlink`.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { UpperChange } from "./upper_changes.ts";

/** Largest file imported (the session overlay's own limit, 50 MiB). */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

/** Where the changes go; each method is one gated action (paths workspace-relative). */
export interface ChangeSink {
  /** Creates or replaces a file. */
  write(path: string, data: Uint8Array): Promise<void>;
  /** Creates a directory unless the session view has it; `true` when created. */
  mkdir(path: string): Promise<boolean>;
  /** Deletes a file or a directory tree. */
  remove(path: string): Promise<void>;
}

/** What became of a process's changes. */
export interface ImportReport {
  /** Files written to the session overlay. */
  readonly written: string[];
  /** Paths deleted from the session overlay. */
  readonly deleted: string[];
  /** Directories created. */
  readonly created: string[];
  /** Changes the gate (or the overlay) refused: nothing was applied for them. */
  readonly refused: { path: string; code: string; message: string }[];
  /** Entries never imported (symlinks, special files). */
  readonly skipped: { path: string; why: string }[];
}

/**
 * Applies the changes in order (parents first). A refused change is recorded
 * and the rest continue; anything under a refused directory is refused too.
 * A file above {@linkcode MAX_IMPORT_BYTES} is refused without being read.
 *
 * @param changes The changes read from the upper dir.
 * @param read The bytes of a file change.
 * @param sink The gated effects.
 * @returns What was applied and what was refused.
 * @throws {Error} What `read` throws, or a sink's non-`KernelError` failure.
 *
 * @example A refused write is reported, not thrown
 * ```ts
 * import assert from "node:assert/strict";
 * import { KernelError } from "../../core/errors.ts";
 * import { importUpperChanges } from "./import_changes.ts";
 * const report = await importUpperChanges(
 *   [{ kind: "file", path: "f", size: 1 }],
 *   () => Promise.resolve(new Uint8Array([120])),
 *   {
 *     write: () => Promise.reject(new KernelError("MANIFEST_DENIED", "no")),
 *     mkdir: () => Promise.resolve(false),
 *     remove: () => Promise.resolve(),
 *   },
 * );
 * assert.deepEqual(report.refused, [{ path: "f", code: "MANIFEST_DENIED", message: "no" }]);
 * ```
 */
export async function importUpperChanges(
  changes: readonly UpperChange[],
  read: (path: string) => Promise<Uint8Array>,
  sink: ChangeSink,
): Promise<ImportReport> {
  const report: ImportReport = {
    written: [],
    deleted: [],
    created: [],
    refused: [],
    skipped: [],
  };
  const refusedDirs: string[] = [];
  for (const change of changes) {
    const { path } = change;
    const under = refusedDirs.find((d) => path.startsWith(`${d}/`));
    if (under !== undefined) {
      report.refused.push({
        path,
        code: "MANIFEST_DENIED",
        message: `Its directory '${under}' was refused`,
      });
      continue;
    }
    if (change.kind === "skipped") {
      report.skipped.push({ path, why: change.why });
      continue;
    }
    try {
      if (change.kind === "file") {
        if (change.size > MAX_IMPORT_BYTES) {
          throw new KernelError(
            "VFS_INVALID_OPERATION",
            `File is larger than ${MAX_IMPORT_BYTES} bytes`,
          );
        }
        await sink.write(path, await read(path));
        report.written.push(path);
      } else if (change.kind === "dir") {
        if (await sink.mkdir(path)) report.created.push(path);
      } else {
        await sink.remove(path);
        report.deleted.push(path);
      }
    } catch (err) {
      if (!KernelError.is(err) || err.code === "ABORTED") throw err;
      report.refused.push({ path, code: err.code, message: err.message });
      if (change.kind === "dir") refusedDirs.push(path);
    }
  }
  return report;
}
