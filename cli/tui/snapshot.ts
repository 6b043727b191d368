/**
 * `astrid chat --snapshot-tui`: one frame of the chat, rendered off-screen as
 * plain text for a scripted list of prompt-stream events — for docs and
 * tests, no terminal and no daemon needed.
 *
 * @module
 */
import { KernelError } from "../../kernel/api/client_kit.ts";
import type { PromptStreamEvent } from "../../kernel/api/client_kit.ts";
import { TURN_EVENT_TYPES } from "../../sdk/turn.ts";
import { ChatState } from "./chat_state.ts";
import { layout, plainRows } from "./renderer.ts";

/** Options of {@linkcode snapshotTui}. */
export interface SnapshotOptions {
  /** The prompt shown before the events. */
  readonly prompt?: string;
  /** Width (default 80). */
  readonly columns?: number;
  /** Height (default 24). */
  readonly rows?: number;
  /** The header (default `astrid chat · snapshot`). */
  readonly header?: string;
}

/**
 * Renders the chat's screen after a list of events.
 *
 * @param events The prompt stream's events, in order.
 * @param options Prompt, size, header.
 * @returns The frame: one line per row, trailing spaces trimmed.
 *
 * @example
 * ```ts
 * import { snapshotTui } from "./snapshot.ts";
 * const frame = snapshotTui([{ type: "text_delta", text: "Hi!" }], { prompt: "hello" });
 * console.assert(frame.split("\n").length === 24 && frame.includes("Hi!"));
 * ```
 */
export function snapshotTui(
  events: readonly PromptStreamEvent[],
  options: SnapshotOptions = {},
): string {
  const state = new ChatState();
  if (options.prompt !== undefined) {
    state.transcript.add("user", options.prompt);
    state.status = "thinking…";
  }
  for (const e of events) {
    state.apply(e, true);
    if (e.type === "final" || e.type === "error") {
      state.dropApprovals("turn");
      state.status = "idle";
    }
  }
  const frame = layout(
    state.view(
      options.header ?? "astrid chat · snapshot",
      "",
      { text: "", cursorColumn: 0 },
    ),
    options.columns ?? 80,
    options.rows ?? 24,
  );
  return plainRows(frame).join("\n");
}

const TYPES = new Set<string>(["turn_start", ...TURN_EVENT_TYPES]);

/**
 * Parses prompt-stream events from JSON lines (blank lines skipped).
 *
 * @param text The lines.
 * @returns The events.
 * @throws {KernelError} `INVALID_INPUT` naming the first bad line.
 */
export function parseEventLines(text: string): PromptStreamEvent[] {
  const events: PromptStreamEvent[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new KernelError("INVALID_INPUT", `line ${i + 1} is not JSON`);
    }
    const type = (value as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !TYPES.has(type)) {
      throw new KernelError(
        "INVALID_INPUT",
        `line ${i + 1} is not a turn event (type must be one of ${
          [...TYPES].join(", ")
        })`,
      );
    }
    events.push(value as PromptStreamEvent);
  });
  return events;
}
