/**
 * The overlay's public vocabulary: its dependencies (the commit gate and the
 * audit log as structural interfaces) and the shapes of diff, commit and
 * discard.
 *
 * @module
 */
import type { ErrorCode } from "../core/errors.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { FileSystem, Logger } from "../core/ports.ts";
import type { Blake3Hasher } from "../crypto/blake3.ts";
import type { AuditRecord } from "../audit/audit_entry.ts";
import type { Action } from "../security/action.ts";
import type { GateContext } from "../security/context.ts";
import type { Decision } from "../security/gate_types.ts";

/** Decides whether a commit may happen; the real `Gate` fits. */
export interface CommitGate {
  /**
   * Decides (and audits the decision) for an `overlay_commit` action.
   *
   * @param action The action.
   * @param ctx Who asks.
   * @param options Cancellation.
   * @returns The decision.
   */
  decide(
    action: Action,
    ctx: GateContext,
    options?: { signal?: AbortSignal },
  ): Promise<Decision>;
}

/** Appends audit entries; the real `AuditLog` fits. */
export interface CommitAudit {
  /**
   * Appends one entry.
   *
   * @param record The entry.
   * @param options Cancellation.
   * @returns The stored entry.
   */
  append(
    record: AuditRecord,
    options?: { signal?: AbortSignal },
  ): Promise<unknown>;
}

/** What an overlay needs. */
export interface OverlayDeps {
  /** The host file system; must implement `readFileChecked` (the real adapter does). */
  readonly fs: FileSystem;
  /** Decides commits. */
  readonly gate: CommitGate;
  /** Records one entry per committed path. */
  readonly audit: CommitAudit;
  /** Warnings (repairs after a crash). */
  readonly logger?: Logger;
  /** A shared BLAKE3 hasher; one is created when absent. */
  readonly hasher?: Blake3Hasher;
}

/** Where an overlay lives and whom it belongs to. */
export interface OverlayOptions {
  /** The workspace root (the lower layer); resolved to its canonical path. */
  readonly workspace: string;
  /** The overlay directory (holds `upper/`, `manifest.json` and `journal.jsonl`); created `0700`. */
  readonly dir: string;
  /** The owner. */
  readonly principal: PrincipalId;
  /** The session. */
  readonly session: SessionId;
  /** Cancels opening. */
  readonly signal?: AbortSignal;
}

/** One reviewable change. */
export interface OverlayChange {
  /** Workspace-relative path. */
  readonly path: string;
  /** What commit would do. */
  readonly change: "added" | "modified" | "deleted";
  /** What the path is (or was, for a deletion). */
  readonly kind: "file" | "dir" | "symlink";
  /** Whether either side is binary (then `diff` is `null`). */
  readonly binary: boolean;
  /** A unified diff for text files, else `null`. */
  readonly diff: string | null;
  /** The workspace changed since the overlay took the path over. */
  readonly conflict: boolean;
}

/** Options of `Overlay.diff`. */
export interface DiffOptions {
  /** Only these workspace-relative paths (and what is below them). */
  readonly paths?: readonly string[];
  /** Cancels the diff. */
  readonly signal?: AbortSignal;
}

/** Options of `Overlay.commit`. */
export interface CommitOptions {
  /** Only these paths (and what is below them, and the new directories above them). */
  readonly paths?: readonly string[];
  /** Commit paths whose workspace file changed since copy-up (never through a symlink). */
  readonly force?: boolean;
  /** Correlates the gate decision and the audit entries. */
  readonly callId?: string;
  /** The capsule asking, if any (the gate refuses capsules). */
  readonly capsule?: CapsuleId;
  /** Called after each path landed. */
  readonly onProgress?: (path: CommittedPath) => void;
  /** Cancels between paths. */
  readonly signal?: AbortSignal;
}

/** A path that reached the workspace. */
export interface CommittedPath {
  /** Workspace-relative path. */
  readonly path: string;
  /** What was done. */
  readonly op: "write" | "delete" | "mkdir";
  /** BLAKE3 hex of the written content; `null` for a directory or deletion. */
  readonly content_hash: string | null;
  /** `true` when an interrupted earlier commit had already applied it. */
  readonly resumed: boolean;
}

/** A path commit refused. */
export interface CommitRefusal {
  /** Workspace-relative path. */
  readonly path: string;
  /** `VFS_CONFLICT` (changed since copy-up) or `VFS_PATH_ESCAPE` (a symlink on the way). */
  readonly code: ErrorCode;
  /** Why. */
  readonly message: string;
}

/** What `Overlay.commit` did. */
export interface CommitResult {
  /** Paths now in the workspace, in the order applied. */
  readonly committed: readonly CommittedPath[];
  /** Paths left in the overlay. */
  readonly refused: readonly CommitRefusal[];
  /** The gate's audit entry, or `null` when nothing needed writing. */
  readonly decision_audit_id: string | null;
}

/** Options of `Overlay.discard`. */
export interface DiscardOptions {
  /** Only these paths (and what is below them); all when absent. */
  readonly paths?: readonly string[];
}
