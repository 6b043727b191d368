/**
 * The chat's terminal port — what the chat core reads and writes — and its
 * one implementation over the process's own terminal (raw mode through
 * `Deno.stdin.setRaw`, the alternate screen, resize on `SIGWINCH`). Plain
 * ANSI escape sequences; no UI framework.
 *
 * @module
 */

/** The terminal as the chat core uses it. */
export interface ChatTerminal {
  /** The size, in columns and rows. */
  size(): { readonly columns: number; readonly rows: number };
  /** Writes escape sequences and text. */
  write(text: string): void;
  /** The input, decoded as UTF-8, one chunk per read; ends when stdin closes. */
  input(): AsyncIterable<string>;
  /** Calls `listener` when the size changes; returns the unsubscribe. */
  onResize(listener: () => void): () => void;
}

/** Whether stdin and stdout are terminals (the chat needs both). */
export function isInteractive(): boolean {
  return Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
}

/**
 * The process's own terminal: raw mode and the alternate screen until
 * `restore()` (which is also safe to call twice).
 *
 * @returns The terminal and its restore.
 */
export function processTerminal(): ChatTerminal & { restore(): void } {
  const encoder = new TextEncoder();
  const write = (text: string) => {
    const bytes = encoder.encode(text);
    let at = 0;
    while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
  };
  Deno.stdin.setRaw(true);
  // the alternate screen, cleared; bracketed paste on
  write("\x1b[?1049h\x1b[2J\x1b[H\x1b[?2004h");
  let restored = false;
  function restore(): void {
    if (restored) return;
    restored = true;
    if (winch) Deno.removeSignalListener("SIGWINCH", onWinch);
    for (const [signal, listener] of exits) {
      Deno.removeSignalListener(signal, listener);
    }
    write("\x1b[?2004l\x1b[0m\x1b[?25h\x1b[?1049l");
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // silent-ok: stdin already closed
    }
  }
  const listeners = new Set<() => void>();
  const onWinch = () => listeners.forEach((l) => l());
  let winch = false;
  try {
    Deno.addSignalListener("SIGWINCH", onWinch);
    winch = true;
  } catch {
    // silent-ok: no SIGWINCH on this platform; the size is read on each paint
  }
  // killed or hung up: give the terminal back before going
  const exits: [Deno.Signal, () => void][] = [];
  for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    const listener = () => {
      restore();
      Deno.exit(code);
    };
    try {
      Deno.addSignalListener(signal, listener);
      exits.push([signal, listener]);
    } catch {
      // silent-ok: not on this platform
    }
  }
  return {
    size() {
      try {
        const { columns, rows } = Deno.consoleSize();
        return { columns, rows };
      } catch {
        return { columns: 80, rows: 24 };
      }
    },
    write,
    async *input() {
      const decoder = new TextDecoder();
      const buf = new Uint8Array(4096);
      while (true) {
        const n = await Deno.stdin.read(buf);
        if (n === null) return;
        yield decoder.decode(buf.subarray(0, n), { stream: true });
      }
    },
    onResize(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    restore,
  };
}
