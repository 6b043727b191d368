/**
 * What the chat shows of a conversation: the user's prompts, the agent's
 * streamed text, tool calls and results, approvals and their answers,
 * notices and errors — built from the prompt stream's events. Every piece of
 * text from the daemon, a model or a tool is sanitized before it is kept.
 *
 * @module
 */
import type { PromptStreamEvent } from "../../kernel/api/client_kit.ts";
import type { ApprovalAnswer } from "../../sdk/turn.ts";
import { sanitize } from "./text.ts";

/** How an entry looks. */
export type EntryStyle =
  | "user"
  | "assistant"
  | "tool"
  | "ok"
  | "error"
  | "approval"
  | "notice";

/** One entry of the transcript. */
export interface Entry {
  /** How it looks. */
  readonly style: EntryStyle;
  /** Its text (sanitized; may hold newlines). */
  text: string;
}

/** The longest text one entry keeps (a runaway stream cannot slow every paint). */
export const MAX_ENTRY_CHARS = 200_000;

/** Human labels of the approval answers. */
export const ANSWER_LABELS: Readonly<Record<ApprovalAnswer, string>> = {
  allow_once: "Allow once",
  allow_session: "Allow for session",
  allow_workspace: "Allow for workspace",
  allow_always: "Allow always",
  deny: "Deny",
};

function short(value: unknown, max: number): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? "";
  const flat = sanitize(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The transcript of a chat. */
export class Transcript {
  readonly #entries: Entry[] = [];
  readonly #max: number;
  #streaming: Entry | undefined;
  #streamed = false;
  readonly #toolNames = new Map<string, string>();

  /** @param max How many entries it keeps (the oldest go first). */
  constructor(max = 2000) {
    this.#max = max;
  }

  /** The entries, oldest first. */
  get entries(): readonly Entry[] {
    return this.#entries;
  }

  /**
   * Adds an entry.
   *
   * @param style How it looks.
   * @param text Its text (sanitized here).
   */
  add(style: EntryStyle, text: string): void {
    this.#streaming = undefined;
    const clean = sanitize(text, true);
    this.#entries.push({
      style,
      text: clean.length > MAX_ENTRY_CHARS
        ? `${clean.slice(0, MAX_ENTRY_CHARS)}\n… (cut)`
        : clean,
    });
    if (this.#entries.length > this.#max) this.#entries.shift();
  }

  /** Forgets every entry (the session keeps its history). */
  clear(): void {
    this.#entries.length = 0;
    this.#streaming = undefined;
  }

  /**
   * Shows one event of a prompt stream.
   *
   * @param e The event.
   */
  apply(e: PromptStreamEvent): void {
    switch (e.type) {
      case "turn_start":
        this.#streamed = false;
        this.#toolNames.clear();
        break;
      case "text_delta": {
        const text = sanitize(String(e.text ?? ""), true);
        if (text === "") break;
        if (this.#streaming === undefined) {
          this.add("assistant", "");
          this.#streaming = this.#entries.at(-1);
        }
        const entry = this.#streaming!;
        if (entry.text.length < MAX_ENTRY_CHARS) {
          entry.text += text;
          if (entry.text.length >= MAX_ENTRY_CHARS) {
            entry.text = `${entry.text.slice(0, MAX_ENTRY_CHARS)}\n… (cut)`;
          }
        }
        this.#streamed = true;
        break;
      }
      case "tool_call":
        this.#toolNames.set(e.id, e.name);
        this.add("tool", `→ ${short(e.name, 64)} ${short(e.arguments, 160)}`);
        break;
      case "tool_result": {
        const name = this.#toolNames.get(e.id) ?? "tool";
        this.add(
          e.is_error ? "error" : "ok",
          `${e.is_error ? "✖" : "←"} ${short(name, 64)}: ${
            short(e.content, 240)
          }`,
        );
        break;
      }
      case "approval_required":
        this.add(
          "approval",
          `? approval needed: ${short(e.action, 40)} ${
            short(e.resource, 160)
          } (risk ${short(e.risk, 10)})`,
        );
        break;
      case "approval_decision":
        this.add(
          "approval",
          `  answered: ${ANSWER_LABELS[e.decision] ?? short(e.decision, 20)}`,
        );
        break;
      case "budget":
        break;
      case "final":
        if (!this.#streamed && typeof e.text === "string" && e.text !== "") {
          this.add("assistant", e.text);
        }
        this.add(
          "notice",
          `✔ done (${Number(e.usage?.input_tokens ?? 0)} in / ${
            Number(e.usage?.output_tokens ?? 0)
          } out tokens)`,
        );
        break;
      case "error":
        this.add(
          "error",
          e.code === "ABORTED"
            ? "✖ turn cancelled"
            : `✖ turn failed: [${short(e.code, 40)}] ${short(e.message, 400)}`,
        );
        break;
      default:
        break;
    }
  }
}
