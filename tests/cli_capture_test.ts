// deno-lint-ignore-file no-console -- replaces the console to capture what a CLI command prints
/**
 * Captures what a CLI command prints (stdout lines through `console.log`,
 * stderr lines through `console.error`) while it runs in process. No tests
 * of its own.
 *
 * @module
 */

/** What a command printed and returned. */
export interface Captured<T> {
  readonly result: T;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `fn` with the console captured.
 *
 * @param fn The command.
 * @returns Its result and output.
 */
export async function capture<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const result = await fn();
    return { result, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
