/**
 * The chat TUI's core: a client of the daemon API (an {@linkcode ApiClient})
 * on a {@linkcode ChatTerminal}. It sends prompts and shows their event
 * streams as they arrive, asks approvals with the five answers, shows the
 * budget, runs the `/` commands, and cancels a turn on Ctrl-C (a second
 * Ctrl-C, or one when idle, quits).
 *
 * @module
 */
import { KernelError } from "../../kernel/api/client_kit.ts";
import type { ApprovalAnswer } from "../../sdk/turn.ts";
import type { ApiClient } from "../../kernel/api/client_kit.ts";
import { type Key, KeyDecoder } from "./keys.ts";
import { LineEditor } from "./line_editor.ts";
import { complete, helpLines, parseCommand } from "./palette.ts";
import {
  ANSWER_KEYS,
  type ChatView,
  type Frame,
  layout,
  toAnsi,
} from "./renderer.ts";
import type { ChatTerminal } from "./terminal.ts";
import { ChatApi, type ChatSession } from "./chat_api.ts";
import {
  type CommandContext,
  commitCommand,
  diffCommand,
  listApprovals,
  sessionsCommand,
} from "./chat_commands.ts";
export type { ChatSession } from "./chat_api.ts";
import { ANSWER_LABELS } from "./transcript.ts";
import { ChatState, type PendingApproval } from "./chat_state.ts";

/** Two Ctrl-C within this many ms quit even while a turn still runs. */
export const DOUBLE_CTRL_C_MS = 2000;
/** Answer keys within this many ms of an approval prompt appearing are type-ahead, not answers (faster than a person reacts). */
export const APPROVAL_GUARD_MS = 300;
/** After a cancel, the stream is dropped locally when it has not ended within this many ms. */
export const CANCEL_GRACE_MS = 3000;

/** Options of {@linkcode runChat}. */
export interface ChatOptions {
  /** Colors (bold and inverse stay without). */
  readonly color?: boolean;
  /** The clock (ms), for the double Ctrl-C. */
  readonly now?: () => number;
  /**
   * For this many ms after an approval prompt appears, its answer keys are
   * ignored: keys typed ahead (the user was writing) must not answer it
   * (default {@linkcode APPROVAL_GUARD_MS}).
   */
  readonly approvalGuardMs?: number;
  /** After Ctrl-C, how long the daemon may take to end the turn before the chat drops the stream (default {@linkcode CANCEL_GRACE_MS}). */
  readonly cancelGraceMs?: number;
  /** The user's home directory, shown as `~` in the header. */
  readonly home?: string;
  /** Called after each paint with the frame (snapshots, tests). */
  readonly onFrame?: (frame: Frame) => void;
}

function errorText(err: unknown): string {
  if (KernelError.is(err)) return `[${err.code}] ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

interface Running {
  readonly kind: "turn" | "command";
  /** The status while it runs. */
  readonly label: string;
  readonly abort: AbortController;
  cancelAt?: number;
  cancelTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Creates a session in a workspace, or continues one (with its history).
 *
 * @param client The API client.
 * @param target The workspace (absolute) or the session to continue.
 * @returns The session.
 */
export function openSession(
  client: ApiClient,
  target: { readonly workspace: string; readonly session?: string },
): Promise<ChatSession> {
  return new ChatApi(client).open(target);
}

/**
 * Runs the chat until the user quits or the input ends.
 *
 * @param client The API client.
 * @param terminal The terminal.
 * @param session The session to start in.
 * @param options Colors, clock, frame hook.
 * @returns The exit code (0).
 */
export async function runChat(
  client: ApiClient,
  terminal: ChatTerminal,
  session: ChatSession,
  options: ChatOptions = {},
): Promise<number> {
  const app = new ChatApp(client, terminal, session, options);
  return await app.run();
}

class ChatApp {
  readonly #api: ChatApi;
  readonly #term: ChatTerminal;
  readonly #options: ChatOptions;
  readonly #now: () => number;
  #session: ChatSession;
  readonly #s: ChatState;
  readonly #editor = new LineEditor();
  #running: Running | undefined;
  #lastIdleCtrlC = 0;
  #paintTimer: ReturnType<typeof setTimeout> | undefined;
  #quit!: () => void;
  readonly #quitted: Promise<void>;
  #done = false;

  constructor(
    client: ApiClient,
    term: ChatTerminal,
    session: ChatSession,
    options: ChatOptions,
  ) {
    this.#api = new ChatApi(client);
    this.#term = term;
    this.#session = session;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#s = new ChatState(this.#now);
    this.#quitted = new Promise((resolve) => (this.#quit = resolve));
  }

  async run(): Promise<number> {
    this.#s.showHistory(this.#session.history);
    this.#s.transcript.add(
      "notice",
      "Enter sends · /help lists the commands · Ctrl-C cancels a turn, twice quits",
    );
    const stopResize = this.#term.onResize(() => this.#paint());
    this.#paint();
    const reading = this.#readInput();
    try {
      await Promise.race([this.#quitted, reading]);
    } finally {
      this.#done = true;
      stopResize();
      if (this.#paintTimer !== undefined) clearTimeout(this.#paintTimer);
      await this.#stopRunning();
    }
    return 0;
  }

  // --- input ------------------------------------------------------------

  async #readInput(): Promise<void> {
    const decoder = new KeyDecoder();
    for await (const chunk of this.#term.input()) {
      for (const key of decoder.push(chunk)) {
        if (this.#done) return;
        this.#onKey(key);
      }
      if (this.#done) return;
      this.#schedulePaint();
    }
  }

  #onKey(key: Key): void {
    if (key.kind === "ctrl" && key.letter === "c") return this.#onCtrlC();
    if (key.kind === "ctrl" && key.letter === "l") {
      this.#term.write("\x1b[2J");
      return this.#paint();
    }
    if (key.kind === "ctrl" && key.letter === "d") {
      if (this.#editor.text === "" && this.#s.approvals.length === 0) {
        this.#quit();
      }
      return;
    }
    const approval = this.#s.approvals[0];
    if (approval) return this.#onApprovalKey(approval, key);
    if (
      key.kind === "key" && (key.name === "pageup" || key.name === "pagedown")
    ) {
      const page = Math.max(1, Math.floor(this.#term.size().rows / 2));
      this.#s.scroll = Math.max(
        0,
        this.#s.scroll + (key.name === "pageup" ? page : -page),
      );
      return;
    }
    if (key.kind === "key" && key.name === "tab") {
      this.#editor.set(complete(this.#editor.text));
      return;
    }
    const result = this.#editor.handle(key);
    if (result.kind === "submit") {
      this.#s.scroll = 0;
      this.#onLine(result.line);
    }
  }

  #onCtrlC(): void {
    const t = this.#now();
    const running = this.#running;
    if (running) {
      if (
        running.cancelAt !== undefined &&
        t - running.cancelAt < DOUBLE_CTRL_C_MS
      ) {
        return this.#quit();
      }
      running.cancelAt = t;
      this.#cancel(running);
      return;
    }
    if (this.#s.approvals.length > 0) {
      this.#s.approvals.length = 0;
      this.#s.transcript.add(
        "notice",
        "approvals left unanswered (/approvals lists them)",
      );
    } else if (this.#editor.text !== "") {
      this.#editor.clear();
    } else {
      return this.#quit();
    }
    if (t - this.#lastIdleCtrlC < DOUBLE_CTRL_C_MS) return this.#quit();
    this.#lastIdleCtrlC = t;
  }

  #onApprovalKey(approval: PendingApproval, key: Key): void {
    const n = approval.options.length;
    const answering = key.kind === "text" ||
      (key.kind === "key" && (key.name === "enter" || key.name === "escape"));
    const guard = this.#options.approvalGuardMs ?? APPROVAL_GUARD_MS;
    if (answering && this.#now() - (approval.shownAt ?? 0) < guard) {
      this.#s.status = "key ignored: typed as the prompt appeared";
      return;
    }
    if (key.kind === "text") {
      if (key.paste) return; // a paste never answers
      const letter = key.text.toLowerCase();
      const pick = approval.options.find((o) => ANSWER_KEYS[o]?.key === letter);
      if (pick) void this.#answer(approval, pick);
      return;
    }
    if (key.kind !== "key") return;
    switch (key.name) {
      case "escape":
        if (approval.options.includes("deny")) {
          void this.#answer(approval, "deny");
        }
        return;
      case "tab":
      case "right":
      case "down":
        approval.selected = (approval.selected + 1) % n;
        return;
      case "shift-tab":
      case "left":
      case "up":
        approval.selected = (approval.selected + n - 1) % n;
        return;
      case "enter": {
        const pick = approval.options[approval.selected];
        if (pick) void this.#answer(approval, pick);
        return;
      }
      default:
        return;
    }
  }

  #onLine(line: string): void {
    if (line.trim() === "") return;
    const command = parseCommand(line);
    if (command === null) {
      const text = line.trim().startsWith("//") ? line.trim().slice(1) : line;
      if (this.#running) {
        this.#s.transcript.add(
          "notice",
          "a turn is running — wait for it, or Ctrl-C to cancel it",
        );
        return;
      }
      void this.#turn(text);
      return;
    }
    void this.#command(command.name, command.known, command.args);
  }

  // --- turns ------------------------------------------------------------

  async #turn(text: string): Promise<void> {
    const running: Running = {
      kind: "turn",
      label: "thinking…",
      abort: new AbortController(),
    };
    this.#running = running;
    this.#s.status = running.label;
    this.#s.transcript.add("user", text);
    this.#schedulePaint();
    let ended = false;
    try {
      const stream = this.#api.prompt(
        this.#session.id,
        text,
        running.abort.signal,
      );
      for await (const e of stream) {
        this.#s.apply(e, this.#running?.kind === "turn");
        this.#schedulePaint();
        if (e.type === "final" || e.type === "error") {
          ended = true;
          break;
        }
      }
      if (!ended) {
        this.#s.transcript.add(
          "error",
          running.abort.signal.aborted
            ? "✖ turn cancelled"
            : "✖ the daemon ended the stream early",
        );
      }
    } catch (err) {
      if (running.abort.signal.aborted) {
        this.#s.transcript.add("error", "✖ turn cancelled");
      } else {
        this.#s.transcript.add("error", `✖ ${errorText(err)}`);
      }
    } finally {
      clearTimeout(running.cancelTimer);
      if (this.#running === running) this.#running = undefined;
      this.#s.dropApprovals("turn");
      this.#s.status = "idle";
      this.#schedulePaint();
    }
  }

  #cancel(running: Running): void {
    this.#s.status = "cancelling… (Ctrl-C again to quit)";
    this.#s.dropApprovals("turn");
    if (running.kind === "command") {
      running.abort.abort();
      return;
    }
    void this.#api.cancel(this.#session.id)
      .catch((err) =>
        this.#s.transcript.add("error", `✖ cancel: ${errorText(err)}`)
      );
    // the turn's end clears it
    running.cancelTimer ??= setTimeout(() => {
      if (this.#running === running) running.abort.abort();
    }, this.#options.cancelGraceMs ?? CANCEL_GRACE_MS);
  }

  async #stopRunning(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    if (running.kind === "turn") {
      try {
        await this.#api.cancel(this.#session.id, AbortSignal.timeout(1000));
      } catch {
        // silent-ok: quitting; the daemon ends the turn when the stream goes away
      }
    }
    running.abort.abort();
  }

  // --- approvals --------------------------------------------------------

  async #answer(a: PendingApproval, decision: ApprovalAnswer): Promise<void> {
    this.#s.removeApproval(a.request_id);
    if (a.source === "turn") this.#s.answered.add(a.request_id);
    this.#s.transcript.add(
      "approval",
      `  you answered: ${ANSWER_LABELS[decision]}`,
    );
    this.#s.status = this.#running?.label ?? "idle";
    this.#schedulePaint();
    try {
      await this.#api.answer(a.request_id, decision);
    } catch (err) {
      this.#s.answered.delete(a.request_id);
      this.#s.transcript.add(
        "error",
        `✖ answering ${a.request_id}: ${errorText(err)}`,
      );
    }
    this.#schedulePaint();
  }

  // --- commands ---------------------------------------------------------

  async #command(
    name: string,
    known: boolean,
    args: readonly string[],
  ): Promise<void> {
    if (!known) {
      this.#s.transcript.add(
        "error",
        `unknown command /${name} — /help lists the commands`,
      );
      return;
    }
    switch (name) {
      case "help":
        this.#s.transcript.add("notice", helpLines().join("\n"));
        return;
      case "clear":
        this.#s.transcript.clear();
        this.#s.scroll = 0;
        return;
      case "quit":
        return this.#quit();
      case "approvals":
        return await this.#background(
          "loading approvals…",
          () => listApprovals(this.#ctx),
        );
    }
    if (this.#running) {
      this.#s.transcript.add(
        "notice",
        `/${name} waits until the running ${this.#running.kind} ends (Ctrl-C cancels it)`,
      );
      return;
    }
    switch (name) {
      case "new":
        return await this.#exclusive("creating a session…", async () => {
          const s = await this.#api.open({
            workspace: this.#session.workspace,
          });
          this.#switchTo(s);
        });
      case "sessions":
        return await this.#exclusive(
          "loading sessions…",
          () => sessionsCommand(this.#ctx, args[0]),
        );
      case "diff":
        return await this.#exclusive(
          "loading the diff…",
          () => diffCommand(this.#ctx),
        );
      case "commit":
        return await this.#exclusive(
          "committing…",
          (signal) => commitCommand(this.#ctx, args, signal),
        );
    }
  }

  /** Runs a command while nothing else runs; Ctrl-C aborts its request. */
  async #exclusive(
    status: string,
    work: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const running: Running = {
      kind: "command",
      label: status,
      abort: new AbortController(),
    };
    this.#running = running;
    this.#s.status = status;
    this.#schedulePaint();
    try {
      await work(running.abort.signal);
    } catch (err) {
      this.#s.transcript.add(
        "error",
        running.abort.signal.aborted ? "✖ cancelled" : `✖ ${errorText(err)}`,
      );
    } finally {
      if (this.#running === running) this.#running = undefined;
      this.#s.dropApprovals("list");
      this.#s.status = "idle";
      this.#schedulePaint();
    }
  }

  /** Runs a read-only command beside whatever runs. */
  async #background(status: string, work: () => Promise<void>): Promise<void> {
    const before = this.#s.status;
    if (!this.#running) this.#s.status = status;
    this.#schedulePaint();
    try {
      await work();
    } catch (err) {
      this.#s.transcript.add("error", `✖ ${errorText(err)}`);
    } finally {
      if (!this.#running) this.#s.status = before === status ? "idle" : before;
      this.#schedulePaint();
    }
  }

  get #ctx(): CommandContext {
    return {
      api: this.#api,
      session: () => this.#session,
      state: this.#s,
      switchTo: (s) => this.#switchTo(s),
      repaint: () => this.#schedulePaint(),
    };
  }

  #switchTo(s: ChatSession): void {
    this.#session = s;
    this.#s.transcript.clear();
    this.#s.approvals.length = 0;
    this.#s.budget = undefined;
    this.#s.tokens = { input: 0, output: 0 };
    this.#s.showHistory(s.history);
    this.#s.transcript.add("notice", `session ${s.id} in ${s.workspace}`);
  }

  // --- painting ---------------------------------------------------------

  #view(): ChatView {
    const home = this.#options.home;
    const ws = home && this.#session.workspace.startsWith(home)
      ? `~${this.#session.workspace.slice(home.length)}`
      : this.#session.workspace;
    return this.#s.view(
      `astrid chat · session ${this.#session.id.slice(0, 8)} · ${ws}`,
      this.#editor.text,
      this.#editor.view(Math.max(1, this.#term.size().columns - 3)),
    );
  }

  #schedulePaint(): void {
    if (this.#done || this.#paintTimer !== undefined) return;
    this.#paintTimer = setTimeout(() => {
      this.#paintTimer = undefined;
      this.#paint();
    }, 8);
  }

  #paint(): void {
    if (this.#done) return;
    const { columns, rows } = this.#term.size();
    const frame = layout(this.#view(), columns, rows);
    this.#s.scroll = frame.scroll;
    this.#term.write(toAnsi(frame, this.#options.color ?? true));
    this.#options.onFrame?.(frame);
  }
}
