/**
 * A {@linkcode Logger} that keeps records in memory for assertions.
 *
 * @module
 */
import type { LogFields, Logger, LogLevel } from "../core/ports.ts";

/** One captured record, with the child fields already merged in. */
export interface CapturedLog {
  /** Severity. */
  readonly level: LogLevel;
  /** The message. */
  readonly message: string;
  /** Child fields merged with the record's own (the record wins). */
  readonly fields: LogFields;
}

/**
 * Captures every record (of all levels). Children share the parent's record
 * list, so assertions on the root see everything.
 *
 * @example Capture a child's records
 * ```ts
 * import { MemoryLogger } from "./memory_logger.ts";
 * const log = new MemoryLogger();
 * log.child({ capsule: "x" }).log("warn", "slow", { ms: 5 });
 * console.assert(log.records[0]?.fields.capsule === "x");
 * ```
 */
export class MemoryLogger implements Logger {
  #records: CapturedLog[] = [];
  readonly #fields: LogFields;

  /**
   * Creates an empty root logger.
   *
   * @param fields Fields added to every record. Default none.
   */
  constructor(fields: LogFields = {}) {
    this.#fields = fields;
  }

  /** Every record so far, oldest first (shared with children). */
  get records(): readonly CapturedLog[] {
    return this.#records;
  }

  /**
   * Captures a record.
   *
   * @param level Severity.
   * @param message The message.
   * @param fields Record fields; they win over child fields.
   */
  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    this.#records.push({
      level,
      message,
      fields: { ...this.#fields, ...fields },
    });
  }

  /**
   * Returns a logger that adds `fields` and writes to the same record list.
   *
   * @param fields Fields to add; they win over this logger's fields.
   * @returns The child logger.
   */
  child(fields: LogFields): MemoryLogger {
    const child = new MemoryLogger({ ...this.#fields, ...fields });
    child.#records = this.#records;
    return child;
  }

  /**
   * The messages captured at `level`, or all messages.
   *
   * @param level Optional level filter.
   * @returns Messages, oldest first.
   */
  messages(level?: LogLevel): string[] {
    return this.#records.filter((r) => level === undefined || r.level === level)
      .map((r) => r.message);
  }

  /** Drops every captured record. */
  clear(): void {
    this.#records.length = 0;
  }
}
