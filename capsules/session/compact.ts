/**
 * Compaction of a conversation to a context budget: the oldest messages go,
 * the first user message stays (it states the task), and a `tool_use` is
 * never separated from its `tool_result` (the cut is always just before an
 * assistant message or a plain user prompt). A short note replaces what was
 * dropped, listing the dropped prompts, so the model knows the history was
 * shortened.
 *
 * @module
 */
import type { ContentBlock, Message } from "@astrid/sdk";

/** Tokens of a value, estimated as characters of its JSON / 4. */
export function estimateTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

const hasToolResult = (m: Message): boolean =>
  m.content.some((b) => b.type === "tool_result");

/** Where the kept tail may start: an assistant message, or a user prompt. */
function isCut(messages: readonly Message[], i: number): boolean {
  const m = messages[i]!;
  return m.role === "assistant" || !hasToolResult(m);
}

function note(dropped: readonly Message[]): string {
  const prompts: string[] = [];
  for (const m of dropped) {
    if (m.role !== "user" || hasToolResult(m)) continue;
    const text = m.content.map((b) => b.type === "text" ? b.text : "").join(
      "",
    ).replace(/\s+/g, " ").trim();
    if (text !== "") {
      prompts.push(text.length > 80 ? `${text.slice(0, 80)}…` : text);
    }
  }
  const listed = prompts.slice(-5).map((p) => `- ${p}`).join("\n");
  return `[${dropped.length} earlier messages were removed to fit the context budget${
    listed ? `; the user had asked:\n${listed}` : ""
  }]`;
}

/** Result of {@linkcode compact}. */
export interface Compacted {
  readonly messages: Message[];
  /** Messages removed (0 = unchanged). */
  readonly removed: number;
}

/**
 * Shortens a history to fit `budget` tokens when it does not already.
 *
 * @param messages The history, oldest first.
 * @param budget The most tokens to keep (estimated).
 * @param tokens `estimateTokens(messages)` when the caller knows it already.
 * @returns The kept messages (possibly still over budget when even the
 *   newest exchange alone is) and how many were removed.
 */
export function compact(
  messages: readonly Message[],
  budget: number,
  tokens?: number,
): Compacted {
  if (
    messages.length < 3 || (tokens ?? estimateTokens(messages)) <= budget
  ) {
    return { messages: [...messages], removed: 0 };
  }
  const first = messages[0]!;
  const build = (cut: number): Message[] => {
    const dropped = messages.slice(1, cut);
    const text: ContentBlock = { type: "text", text: note(dropped) };
    const tail = messages.slice(cut);
    // Roles keep alternating: the note joins the first message when the
    // tail starts with the assistant, else it is an assistant message.
    return tail[0]!.role === "assistant" && first.role === "user"
      ? [{ role: "user", content: [...first.content, text] }, ...tail]
      : first.role === "user"
      ? [first, { role: "assistant", content: [text] }, ...tail]
      : [first, ...tail];
  };
  let last = -1;
  for (let cut = 2; cut < messages.length; cut++) {
    if (!isCut(messages, cut)) continue;
    last = cut;
    const kept = build(cut);
    if (estimateTokens(kept) <= budget) {
      return { messages: kept, removed: cut - 1 };
    }
  }
  if (last === -1) return { messages: [...messages], removed: 0 };
  return { messages: build(last), removed: last - 1 };
}
