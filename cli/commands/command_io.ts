/**
 * The terminal of a daemon client command, as a parameter: stdout and stderr
 * lines, stdin, a question to the human, the current directory. `denoIo()`
 * is the real terminal; tests pass their own to run the commands in-process.
 *
 * @module
 */
import { note, out } from "../output.ts";

/** What a daemon client command reads and writes. */
export interface CommandIo {
  /** Writes a line to stdout (the result). */
  out(line: string): void;
  /** Writes a line to stderr (progress, errors). */
  err(line: string): void;
  /** The whole of stdin, or `null` when stdin is a terminal. */
  stdin(): Promise<string | null>;
  /** Asks the human; `null` when there is no terminal to ask on. */
  ask(question: string): string | null;
  /** The current directory (absolute). */
  readonly cwd: string;
  /** Resolves symlinks of an existing path (the daemon compares real paths). */
  realPath(path: string): Promise<string>;
  /** Aborted when the user interrupts (Ctrl-C). */
  readonly interrupt?: AbortSignal;
}

/**
 * The process's terminal.
 *
 * @returns The real I/O.
 */
export function denoIo(): CommandIo {
  let interrupt: AbortController | undefined;
  return {
    // Installed on first use (a command that never asks keeps the default
    // Ctrl-C): the first Ctrl-C asks the command to stop its work (e.g.
    // cancel the turn in the daemon); a second one ends the process.
    get interrupt() {
      if (interrupt === undefined) {
        const controller = new AbortController();
        interrupt = controller;
        Deno.addSignalListener("SIGINT", () => {
          if (controller.signal.aborted) Deno.exit(130);
          controller.abort();
        });
      }
      return interrupt.signal;
    },
    out,
    err: note,
    async stdin() {
      if (Deno.stdin.isTerminal()) return null;
      return await new Response(Deno.stdin.readable).text();
    },
    ask(question) {
      if (!Deno.stdin.isTerminal()) return null;
      return prompt(question);
    },
    cwd: Deno.cwd(),
    realPath: (p) => Deno.realPath(p),
  };
}
