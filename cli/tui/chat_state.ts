/**
 * What the chat shows, apart from the input line: the transcript, the state
 * of the turn, the budget and tokens, and the approval requests to ask —
 * updated from the prompt stream's events. Shared by the chat and
 * `astrid chat --snapshot-tui`.
 *
 * @module
 */
import type { PromptStreamEvent } from "../../kernel/api/client_kit.ts";
import type { Message } from "../../sdk/llm.ts";
import type { ApprovalAnswer } from "../../sdk/turn.ts";
import { paletteMatches } from "./palette.ts";
import { ANSWER_KEYS, type ChatView } from "./renderer.ts";
import { sanitize } from "./text.ts";
import { Transcript } from "./transcript.ts";

/** An approval request the chat asks. */
export interface PendingApproval {
  /** Answer it with `POST /v1/approvals/:id`. */
  readonly request_id: string;
  /** The action kind. */
  readonly action: string;
  /** What it touches. */
  readonly resource: string;
  /** How dangerous it is. */
  readonly risk: string;
  /** The answers offered. */
  readonly options: readonly ApprovalAnswer[];
  /** `turn`: asked by the running turn's stream; `list`: from `/approvals` or a commit. */
  readonly source: "turn" | "list";
  /** The answer Enter picks. */
  selected: number;
  /** When it became the one shown (ms), for the type-ahead guard. */
  shownAt?: number;
}

/** The chat's screen state. */
export class ChatState {
  readonly #now: () => number;

  /** @param now The clock (ms). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The conversation as shown. */
  readonly transcript: Transcript = new Transcript();
  /** Rows scrolled up. */
  scroll = 0;
  /** The state line. */
  status = "idle";
  /** Money spent and the limit, once a budget event came. */
  budget: { spent_usd: number; limit_usd: number | null } | undefined;
  /** Tokens of the turns so far. */
  tokens: { input: number; output: number } = { input: 0, output: 0 };
  /** Requests to ask, the first one shown. */
  readonly approvals: PendingApproval[] = [];
  /** Requests this chat answered (their decision events are not shown twice). */
  readonly answered: Set<string> = new Set();

  /**
   * Shows one event of a prompt stream.
   *
   * @param e The event.
   * @param turnRunning Whether a turn of this chat runs (its approvals set the status).
   */
  apply(e: PromptStreamEvent, turnRunning = true): void {
    if (
      e.type === "approval_decision" && this.answered.has(e.request_id)
    ) {
      this.answered.delete(e.request_id);
      this.removeApproval(e.request_id);
      return;
    }
    this.transcript.apply(e);
    switch (e.type) {
      case "text_delta":
        this.status = "writing…";
        break;
      case "tool_call":
        this.status = `running ${sanitize(String(e.name)).slice(0, 40)}…`;
        break;
      case "tool_result":
        this.status = "thinking…";
        break;
      case "approval_required":
        this.enqueue({
          request_id: e.request_id,
          action: e.action,
          resource: e.resource,
          risk: e.risk,
          options: e.options,
          source: "turn",
        }, turnRunning);
        break;
      case "approval_decision":
        this.removeApproval(e.request_id);
        break;
      case "budget":
        if (typeof e.spent_usd === "number") {
          this.budget = {
            spent_usd: e.spent_usd,
            limit_usd: typeof e.limit_usd === "number" ? e.limit_usd : null,
          };
        }
        break;
      case "final":
        this.tokens = {
          input: this.tokens.input + Number(e.usage?.input_tokens ?? 0),
          output: this.tokens.output + Number(e.usage?.output_tokens ?? 0),
        };
        break;
      default:
        break;
    }
  }

  /**
   * Queues an approval request to ask (once; only the answers the chat knows).
   *
   * @param a The request.
   * @param turnRunning Whether a turn waits for it (sets the status).
   */
  enqueue(
    a: Omit<PendingApproval, "selected" | "shownAt">,
    turnRunning = false,
  ): void {
    if (this.approvals.some((p) => p.request_id === a.request_id)) return;
    const options = a.options.filter((o) => o in ANSWER_KEYS);
    if (options.length === 0) return;
    this.approvals.push({ ...a, options, selected: 0 });
    this.#showHead();
    if (turnRunning) {
      this.status = "waiting for your approval";
    }
  }

  /**
   * Forgets a request (answered).
   *
   * @param id Its id.
   */
  removeApproval(id: string): void {
    const i = this.approvals.findIndex((p) => p.request_id === id);
    if (i >= 0) this.approvals.splice(i, 1);
    this.#showHead();
  }

  /**
   * Forgets every request of a source (its turn or command ended).
   *
   * @param source Where they came from.
   */
  dropApprovals(source: "turn" | "list"): void {
    for (let i = this.approvals.length - 1; i >= 0; i--) {
      if (this.approvals[i]!.source === source) this.approvals.splice(i, 1);
    }
    this.#showHead();
  }

  /**
   * Shows a continued session's earlier messages.
   *
   * @param history The messages.
   */
  showHistory(history: readonly Message[]): void {
    for (const m of history) {
      for (const b of m.content ?? []) {
        if (b.type === "text" && b.text.trim() !== "") {
          this.transcript.add(
            m.role === "user" ? "user" : "assistant",
            b.text,
          );
        } else if (b.type === "tool_use") {
          this.transcript.apply({
            type: "tool_call",
            id: b.id,
            name: b.name,
            arguments: b.input,
          });
        }
      }
    }
  }

  #showHead(): void {
    const head = this.approvals[0];
    if (head && head.shownAt === undefined) head.shownAt = this.#now();
  }

  /**
   * What the screen shows now.
   *
   * @param header The header's text.
   * @param input The input line's text (for the palette).
   * @param field The input line as the editor shows it.
   * @returns The view.
   */
  view(
    header: string,
    input: string,
    field: { readonly text: string; readonly cursorColumn: number },
  ): ChatView {
    const approval = this.approvals[0];
    return {
      header,
      entries: this.transcript.entries,
      scroll: this.scroll,
      status: this.status,
      ...(this.budget ? { budget: this.budget } : {}),
      ...(this.tokens.input + this.tokens.output > 0
        ? { tokens: this.tokens }
        : {}),
      ...(approval
        ? {
          approval: {
            action: approval.action,
            resource: approval.resource,
            risk: approval.risk,
            options: approval.options,
            selected: approval.selected,
            queued: this.approvals.length - 1,
          },
        }
        : {}),
      palette: approval ? [] : paletteMatches(input),
      input: field,
    };
  }
}
