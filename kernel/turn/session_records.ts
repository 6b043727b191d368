/**
 * The daemon's persisted session records: one per session in the kernel's
 * store (`[SESSIONS_NAMESPACE, principal, id]`), so that sessions survive a
 * restart. The history lives with the session capsule and the overlay in
 * the principal's home; a record holds what the API lists.
 *
 * @module
 */
import { parseSessionId, type PrincipalId } from "../core/ids.ts";
import type { SessionId } from "../core/ids.ts";
import type { JsonValue, Store, StoreKey } from "../store/store.ts";

/** Store namespace of session records. */
export const SESSIONS_NAMESPACE = "daemon:sessions";

/** The longest title kept (the first line of the first prompt). */
export const MAX_TITLE_LENGTH = 120;

/** A persisted session. */
export interface SessionRecord {
  /** The session id. */
  readonly id: SessionId;
  /** The workspace (canonical absolute path). */
  readonly workspace: string;
  /** Creation time, ms since the epoch. */
  readonly created_at: number;
  /** Last activity, ms since the epoch. */
  readonly updated_at: number;
  /** Turns started. */
  readonly turns: number;
  /** The first prompt's first line, or `null`. */
  readonly title: string | null;
}

/**
 * The title of a session from its first prompt: the first non-empty line,
 * cut to {@linkcode MAX_TITLE_LENGTH} characters.
 *
 * @param text The prompt.
 * @returns The title.
 *
 * @example
 * ```ts
 * import { titleOf } from "./session_records.ts";
 * console.assert(titleOf("\n  Fix the bug\nin a.ts") === "Fix the bug");
 * ```
 */
export function titleOf(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ??
    "";
  return Array.from(line).slice(0, MAX_TITLE_LENGTH).join("");
}

/** The session records of one principal. */
export class SessionRecords {
  readonly #store: Store;
  readonly #principal: PrincipalId;

  /**
   * @param store The kernel's store.
   * @param principal Whose sessions.
   */
  constructor(store: Store, principal: PrincipalId) {
    this.#store = store;
    this.#principal = principal;
  }

  #key(id: string): StoreKey {
    return [SESSIONS_NAMESPACE, this.#principal, id];
  }

  /**
   * Every record, newest first (by creation time).
   *
   * @returns The records (malformed ones skipped).
   */
  async list(): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for await (
      const entry of this.#store.list([SESSIONS_NAMESPACE, this.#principal])
    ) {
      const r = parseRecord(entry.value);
      if (r) out.push(r);
    }
    return out.sort((a, b) => b.created_at - a.created_at);
  }

  /**
   * One record.
   *
   * @param id The session id (anything: a malformed id is simply unknown).
   * @returns The record, or `null`.
   */
  async get(id: string): Promise<SessionRecord | null> {
    let sid: SessionId;
    try {
      sid = parseSessionId(id);
    } catch {
      return null;
    }
    const entry = await this.#store.get(this.#key(sid));
    return entry === null ? null : parseRecord(entry.value);
  }

  /**
   * Writes a record.
   *
   * @param record The record.
   */
  async put(record: SessionRecord): Promise<void> {
    await this.#store.set(
      this.#key(record.id),
      { ...record } as unknown as JsonValue,
    );
  }

  /**
   * Deletes a record (no-op when absent).
   *
   * @param id The session id.
   */
  async delete(id: SessionId): Promise<void> {
    await this.#store.delete(this.#key(id));
  }
}

function parseRecord(raw: unknown): SessionRecord | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return null;
  }
  const o = raw as Record<string, unknown>;
  let id: SessionId;
  try {
    id = parseSessionId(o["id"]);
  } catch {
    return null;
  }
  const title = o["title"];
  if (
    typeof o["workspace"] !== "string" || !o["workspace"].startsWith("/") ||
    !Number.isSafeInteger(o["created_at"]) ||
    !Number.isSafeInteger(o["updated_at"]) ||
    !Number.isSafeInteger(o["turns"]) ||
    (title !== null && typeof title !== "string")
  ) return null;
  return {
    id,
    workspace: o["workspace"],
    created_at: o["created_at"] as number,
    updated_at: o["updated_at"] as number,
    turns: o["turns"] as number,
    title: title as string | null,
  };
}
