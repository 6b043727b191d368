/**
 * Small terminal helpers of the CLI: a progress bar on stderr, and a line
 * read without echo (for secrets). Both fall back to plain behaviour when
 * the stream is not a terminal.
 *
 * @module
 */

/**
 * Renders a progress bar line: `[######----] 6/10 label`.
 *
 * @param done Steps done.
 * @param total Total steps.
 * @param label What is happening (cut to fit 80 columns).
 * @param width The bar's width in cells.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import { progressLine } from "./terminal.ts";
 * console.assert(progressLine(1, 4, "x", 8) === "[##------] 1/4 x");
 * ```
 */
export function progressLine(
  done: number,
  total: number,
  label: string,
  width = 24,
): string {
  const filled = total <= 0
    ? width
    : Math.round(width * Math.min(done, total) / total);
  const head = `[${"#".repeat(filled)}${
    "-".repeat(width - filled)
  }] ${done}/${total} `;
  const room = Math.max(0, 79 - head.length);
  return head + (label.length > room ? label.slice(0, room - 1) + "…" : label);
}

/** A progress bar on stderr: redrawn in place on a terminal, else one line per step. */
export class ProgressBar {
  readonly #tty = Deno.stderr.isTerminal();
  readonly #encoder = new TextEncoder();
  #last = "";

  /** Whether the bar is drawn in place (stderr is a terminal). */
  get tty(): boolean {
    return this.#tty;
  }

  /**
   * Shows the state.
   *
   * @param done Steps done.
   * @param total Total steps.
   * @param label What is happening.
   */
  update(done: number, total: number, label: string): void {
    const line = progressLine(done, total, label);
    if (line === this.#last) return;
    this.#last = line;
    Deno.stderr.writeSync(
      this.#encoder.encode(this.#tty ? `\r\x1b[2K${line}` : `${line}\n`),
    );
  }

  /** Prints a message above the bar (warnings, errors). */
  message(text: string): void {
    Deno.stderr.writeSync(
      this.#encoder.encode(
        this.#tty ? `\r\x1b[2K${text}\n${this.#last}` : `${text}\n`,
      ),
    );
  }

  /** Ends the bar (a newline on a terminal). */
  done(): void {
    if (this.#tty && this.#last !== "") {
      Deno.stderr.writeSync(this.#encoder.encode("\n"));
    }
    this.#last = "";
  }
}

/**
 * Reads one line from a terminal without echoing it (a secret).
 *
 * @param question The prompt.
 * @returns The line (may be empty), or `null` at end of input / Ctrl-C.
 */
export async function readHidden(question: string): Promise<string | null> {
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(`${question} `));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(256);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return null;
      for (const b of buf.subarray(0, n)) {
        if (b === 3 || b === 4) return null; // Ctrl-C, Ctrl-D
        if (b === 13 || b === 10) {
          return new TextDecoder().decode(new Uint8Array(bytes));
        }
        if (b === 127 || b === 8) bytes.pop();
        else if (b >= 32) bytes.push(b);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}
