/**
 * Private: the overlay's metadata journal (`journal.jsonl` beside
 * `manifest.json`) — so that recording a change to the entries costs one
 * small append instead of rewriting the whole manifest.
 *
 * Each line is one persisted batch of changes, `{"c":[[key, entry|null],…]}`
 * (`null` deletes the entry), written with a single append. A line counts
 * only once its newline is on disk: a process killed mid-append leaves a
 * torn last line, which is ignored — that batch's `persist()` never
 * returned, so nothing acted on it (the upper files it described are
 * repaired by `reconcile`). A complete line that is not valid is corruption
 * and refused, as an invalid manifest is.
 *
 * Compaction writes the manifest (temp file + rename) with every change,
 * then deletes the journal. Lines hold absolute values, so replaying a
 * journal that a crash left beside the newer manifest changes nothing, as
 * long as the journal held every change the manifest has — the caller
 * appends its pending batch before compacting.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { FileSystem } from "../core/ports.ts";
import {
  checkKey,
  type Entry,
  type ManifestData,
  parseEntry,
  record,
  saveManifest,
} from "./_manifest.ts";

/** The file name of the journal inside the overlay directory. */
export const JOURNAL_FILE = "journal.jsonl";
/** The journal is compacted once it is larger than this and than the manifest. */
const JOURNAL_MIN_COMPACT = 64 * 1024;

/** One change: the key and its new entry, `null` when deleted. */
export type Change = readonly [key: string, entry: Entry | null];

/** What {@linkcode loadJournal} found. */
export interface LoadedJournal {
  /** Complete batches, oldest first. */
  readonly batches: readonly (readonly Change[])[];
  /** A torn last line was ignored. */
  readonly torn: boolean;
}

/**
 * Persists batches of changes for one overlay directory: a journal line
 * each, compacted into the manifest when the journal has grown larger than
 * the manifest, when asked, or on every batch when the file system cannot
 * append. Calls must not overlap (the state serialises them).
 */
export class MetadataWriter {
  #fs: FileSystem;
  #dir: string;
  #journalChars = 0;
  #manifestChars = 0;

  constructor(fs: FileSystem, dir: string) {
    this.#fs = fs;
    this.#dir = dir;
  }

  /** Starts from a compacted state: no journal, a manifest of this size. */
  reset(manifestChars: number): void {
    this.#journalChars = 0;
    this.#manifestChars = manifestChars;
  }

  /** Persists one batch; `snapshot` gives the manifest should it compact. */
  async write(
    changes: readonly Change[],
    snapshot: () => ManifestData,
    compact: boolean,
  ): Promise<void> {
    const journal = typeof this.#fs.appendFile === "function";
    if (journal && changes.length > 0) {
      this.#journalChars += await appendJournal(
        this.#fs,
        this.#dir,
        changes,
        this.#journalChars === 0,
      );
    }
    const large = this.#journalChars >
      Math.max(JOURNAL_MIN_COMPACT, this.#manifestChars);
    if (journal && !compact && !large) return;
    // The journal now holds every change the manifest gets, so a crash
    // between these two steps leaves a journal whose replay changes nothing.
    this.#manifestChars = await saveManifest(this.#fs, this.#dir, snapshot());
    if (journal) await removeJournal(this.#fs, this.#dir);
    this.#journalChars = 0;
  }
}

/** The journal line for one batch (with its newline). */
export function journalLine(changes: readonly Change[]): string {
  return `${JSON.stringify({ c: changes })}\n`;
}

/**
 * Appends one batch with a single write.
 *
 * @returns The number of characters appended.
 */
export async function appendJournal(
  fs: FileSystem,
  dir: string,
  changes: readonly Change[],
  create: boolean,
): Promise<number> {
  const line = journalLine(changes);
  await fs.appendFile!(
    `${dir}/${JOURNAL_FILE}`,
    line,
    create ? { mode: 0o600 } : {},
  );
  return line.length;
}

/** Deletes the journal (already absent is fine). */
export async function removeJournal(
  fs: FileSystem,
  dir: string,
): Promise<void> {
  try {
    await fs.remove(`${dir}/${JOURNAL_FILE}`);
  } catch (err) {
    // silent-ok: no journal was written since the last compaction.
    if (!KernelError.is(err, "NOT_FOUND")) throw err;
  }
}

/**
 * Loads and validates the journal; `null` when there is none.
 *
 * @throws {KernelError} `HOST_IO` when a complete line is not a valid batch.
 */
export async function loadJournal(
  fs: FileSystem,
  dir: string,
): Promise<LoadedJournal | null> {
  const path = `${dir}/${JOURNAL_FILE}`;
  let text: string;
  try {
    text = await fs.readTextFile(path);
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return null;
    throw err;
  }
  const lines = text.split("\n");
  // The part after the last newline: "" when the last append completed.
  const tail = lines.pop()!;
  const batches = lines.map((line, i) => {
    try {
      return parseBatch(JSON.parse(line));
    } catch (err) {
      throw new KernelError(
        "HOST_IO",
        `Cannot load the overlay journal '${path}' as line ${
          i + 1
        } is invalid: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  });
  return { batches, torn: tail !== "" };
}

function parseBatch(raw: unknown): Change[] {
  const changes = record(raw, "the line").c;
  if (!Array.isArray(changes)) throw new Error("it has no change list");
  return changes.map((change: unknown) => {
    if (
      !Array.isArray(change) || change.length !== 2 ||
      typeof change[0] !== "string"
    ) {
      throw new Error("a change is not a [key, entry] pair");
    }
    const key: string = change[0];
    checkKey(key);
    return [key, change[1] === null ? null : parseEntry(change[1], key)];
  });
}
