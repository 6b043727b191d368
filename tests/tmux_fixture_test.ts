/**
 * Drives a real terminal program in tmux, the way a person uses it: a
 * private tmux server (its own socket, no user config, no status bar) with
 * one window of a fixed size, keys sent with `send-keys`, the screen read
 * with `capture-pane`. The pane stays after the program exits, so a test
 * can read its last screen and its exit status (printed by a wrapping
 * shell).
 *
 * @module
 */
import * as path from "node:path";

/** Whether tmux is installed (tests that need it are skipped without it). */
export const HAS_TMUX: boolean = await new Deno.Command("tmux", {
  args: ["-V"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

/** Options of {@linkcode TmuxSession.start}. */
export interface TmuxOptions {
  /** Columns (default 80). */
  readonly columns?: number;
  /** Rows (default 24). */
  readonly rows?: number;
  /** The program's working directory. */
  readonly cwd?: string;
  /** The program's whole environment (nothing else is inherited but `TERM`). */
  readonly env?: Readonly<Record<string, string>>;
}

const EXIT_MARK = "[exited with status ";
const EXIT_PATTERN = /\[exited with status (\d+)\]/;

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A program running in a private tmux server. */
export class TmuxSession {
  readonly #socket: string;
  readonly #dir: string;
  #killed = false;

  private constructor(socket: string, dir: string) {
    this.#socket = socket;
    this.#dir = dir;
  }

  /**
   * Starts `argv` in a new detached tmux session of a fixed size.
   *
   * @param argv The program and its arguments.
   * @param options Size, working directory, environment.
   * @returns The session.
   */
  static async start(
    argv: readonly string[],
    options: TmuxOptions = {},
  ): Promise<TmuxSession> {
    const dir = await Deno.makeTempDir({ prefix: "astrid-tmux-" });
    const conf = path.join(dir, "tmux.conf");
    await Deno.writeTextFile(
      conf,
      "set -g status off\nset -g remain-on-exit on\nset -g history-limit 0\nset -sg escape-time 0\n",
    );
    const socket = path.join(dir, "tmux.sock");
    const session = new TmuxSession(socket, dir);
    const envArgs = Object.entries(options.env ?? {}).map(([k, v]) =>
      quote(`${k}=${v}`)
    ).join(" ");
    // the shell reports the exit status on the screen once the program ends
    const command = `exec env -i TERM=xterm-256color ${envArgs} /bin/sh -c ${
      quote(`"$@"; echo "${EXIT_MARK}$?]"`)
    } sh ${argv.map(quote).join(" ")}`;
    await session.#tmux(
      "-f",
      conf,
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(options.columns ?? 80),
      "-y",
      String(options.rows ?? 24),
      ...(options.cwd ? ["-c", options.cwd] : []),
      command,
    );
    return session;
  }

  async #tmux(...args: string[]): Promise<string> {
    const o = await new Deno.Command("tmux", {
      args: ["-S", this.#socket, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { TMUX: "" },
    }).output();
    if (!o.success) {
      throw new Error(
        `tmux ${args[0]} failed: ${new TextDecoder().decode(o.stderr)}`,
      );
    }
    return new TextDecoder().decode(o.stdout);
  }

  /**
   * Sends keys by tmux name (`Enter`, `C-c`, `Escape`, `Up`, …).
   *
   * @param keys The key names.
   */
  async keys(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", "-t", "t", ...keys);
  }

  /**
   * Types text literally (no key names).
   *
   * @param text The text.
   */
  async type(text: string): Promise<void> {
    await this.#tmux("send-keys", "-t", "t", "-l", text);
  }

  /**
   * Resizes the window (the program gets `SIGWINCH`).
   *
   * @param columns New width.
   * @param rows New height.
   */
  async resize(columns: number, rows: number): Promise<void> {
    await this.#tmux(
      "resize-window",
      "-t",
      "t",
      "-x",
      String(columns),
      "-y",
      String(rows),
    );
  }

  /**
   * Pastes text the way a terminal does (bracketed, when the program asked for it).
   *
   * @param text The text.
   */
  async paste(text: string): Promise<void> {
    await this.#tmux("set-buffer", "-b", "p", "--", text);
    await this.#tmux("paste-buffer", "-p", "-d", "-b", "p", "-t", "t");
  }

  /** The visible screen, one line per row. */
  async screen(): Promise<string> {
    return await this.#tmux("capture-pane", "-p", "-t", "t");
  }

  /**
   * Waits until the screen matches.
   *
   * @param pattern Text (a substring) or a pattern.
   * @param timeoutMs How long to wait.
   * @returns The screen that matched.
   * @throws {Error} With the last screen when it never matched.
   */
  async waitForText(
    pattern: string | RegExp,
    timeoutMs = 20_000,
  ): Promise<string> {
    const until = Date.now() + timeoutMs;
    let last = "";
    while (true) {
      last = await this.screen();
      if (
        typeof pattern === "string"
          ? last.includes(pattern)
          : pattern.test(last)
      ) return last;
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the screen never showed ${pattern}; it shows:\n${last}`);
  }

  /**
   * The program's exit status once it has exited, else `null`.
   *
   * @returns The status or `null`.
   */
  async exitStatus(): Promise<number | null> {
    const m = (await this.screen()).match(EXIT_PATTERN);
    return m ? Number(m[1]) : null;
  }

  /**
   * Waits until the program has exited.
   *
   * @param timeoutMs How long to wait.
   * @returns Its exit status.
   */
  async waitForExit(timeoutMs = 10_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const status = await this.exitStatus();
      if (status !== null) return status;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `the program did not exit; the screen shows:\n${await this.screen()}`,
    );
  }

  /** Kills the tmux server (and the program) and removes its files. */
  async kill(): Promise<void> {
    if (this.#killed) return;
    this.#killed = true;
    try {
      await this.#tmux("kill-server");
    } catch {
      // silent-ok: the server already ended
    }
    await Deno.remove(this.#dir, { recursive: true });
  }

  /** Same as {@linkcode kill}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
