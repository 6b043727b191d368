// deno-lint-ignore-file no-console -- the CLI's one place that writes to the terminal
/**
 * Terminal output helpers for the CLI: errors with codes, tables, JSON.
 *
 * @module
 */
import { KernelError, type Logger } from "../kernel/api/client_kit.ts";

/** Exit code for a failure the user can fix (bad config, missing key). */
export const EXIT_FAILURE = 1;
/** Exit code for a usage error (unknown command or flag). */
export const EXIT_USAGE = 2;

/** A usage error: unknown command, unknown flag, missing argument. */
export class UsageError extends Error {
  /** @param message What was wrong with the command line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Prints an error as `error[CODE]: message` (plus issues) and returns the exit code.
 *
 * @param err The thrown value.
 * @returns The process exit code to use.
 */
export function reportError(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(
      `error[USAGE]: ${err.message}\nRun 'astrid --help' for usage.`,
    );
    return EXIT_USAGE;
  }
  if (KernelError.is(err)) {
    console.error(`error[${err.code}]: ${err.message}`);
    const issues = err.data?.["issues"];
    if (Array.isArray(issues) && issues.length > 1) {
      for (
        const i of issues as { file?: string; key?: string; message?: string }[]
      ) {
        console.error(
          `  - ${i.file ?? ""}${i.key ? ` [${i.key}]` : ""}: ${
            i.message ?? ""
          }`,
        );
      }
    }
    return EXIT_FAILURE;
  }
  console.error(
    `error[INTERNAL]: ${err instanceof Error ? err.message : String(err)}`,
  );
  return EXIT_FAILURE;
}

/**
 * Formats rows as an aligned text table; the first row is the header.
 *
 * @param rows Cells, all rows the same length.
 * @returns The table text.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ??
      [];
  return rows.map((r) =>
    r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
  ).join("\n");
}

/**
 * Prints a line to stdout.
 *
 * @param text The text.
 */
export function out(text: string): void {
  console.log(text);
}

/**
 * Prints a progress or warning line to stderr (stdout stays the result).
 *
 * @param text The text.
 */
export function note(text: string): void {
  console.error(text);
}

/** A kernel logger for CLI commands: warnings and errors to stderr, nothing else. */
export const warnLogger: Logger = {
  log(level, message): void {
    if (level === "warn" || level === "error") {
      console.error(`${level}: ${message}`);
    }
  },
  child(): Logger {
    return warnLogger;
  },
};
