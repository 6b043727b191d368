/**
 * Renders a turn's events for a person: text as it streams (flushed per
 * model message), tool calls and results, approvals (answered through the
 * turn API), the final answer or the error. Used by `astrid demo` and
 * `astrid agent`.
 *
 * @module
 */
import type {
  AgentSession,
  ApprovalAnswer,
  ApprovalRequiredEvent,
  KernelHandle,
  Runtime,
  SessionOverlay,
  TurnEvent,
} from "../../mod.ts";
import { commitOverlayAnswering } from "../../mod.ts";
import { out } from "../output.ts";

function short(value: unknown, max = 90): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Renders one turn's events as a newcomer can follow them.
 *
 * @param agent The session.
 * @param prompt What the user says.
 * @param answerFor Picks the answer to each approval request (may ask a human).
 * @param workspace Replaced by `<ws>` in what is printed.
 * @returns The turn's last event.
 */
export async function showTurn(
  agent: AgentSession,
  prompt: string,
  answerFor: (
    e: ApprovalRequiredEvent,
  ) => ApprovalAnswer | Promise<ApprovalAnswer>,
  workspace: string,
): Promise<TurnEvent> {
  out(`  you> ${prompt}`);
  let text = "";
  const flush = () => {
    if (text.trim()) out(`  model> ${text.trim()}`);
    text = "";
  };
  let last: TurnEvent = { type: "error", code: "INTERNAL", message: "" };
  for await (const e of agent.turn(prompt)) {
    last = e;
    switch (e.type) {
      case "text_delta":
        text += e.text;
        break;
      case "tool_call":
        flush();
        out(`    → ${e.name} ${short(e.arguments, 80)}`);
        break;
      case "tool_result":
        out(
          `    ${e.is_error ? "✖ refused/failed" : "← ok"}: ${
            short(e.content.replaceAll(workspace, "<ws>"))
          }`,
        );
        break;
      case "approval_required": {
        out(
          `    ? approval needed: ${e.action} ${
            e.resource.replaceAll(workspace, "<ws>")
          } (risk ${e.risk})`,
        );
        const answer = await answerFor(e);
        out(`      → ${answer}`);
        agent.answer(e.request_id, answer);
        break;
      }
      case "budget":
        break;
      case "final":
        flush();
        out(
          `  ✔ final answer (${e.usage.input_tokens} in / ${e.usage.output_tokens} out tokens)`,
        );
        break;
      case "error":
        flush();
        out(`  ✖ turn failed: [${e.code}] ${e.message}`);
        break;
      default:
        break;
    }
  }
  return last;
}

/**
 * Commits the session overlay — a gated action of its own — while this
 * frontend answers the session's approval requests.
 *
 * @param kernel The kernel.
 * @param runtime The session.
 * @param overlay The session's overlay.
 * @param answer Picks the answer to each request (may ask a human).
 * @returns `"<op> <path>"` of every change committed.
 */
export async function commitAnswering(
  kernel: KernelHandle,
  runtime: Runtime,
  overlay: SessionOverlay,
  answer: (
    summary: string,
    options: readonly ApprovalAnswer[],
  ) => ApprovalAnswer,
): Promise<string[]> {
  return await commitOverlayAnswering(
    kernel,
    runtime.session,
    overlay,
    (req) =>
      Promise.resolve({ decision: answer(req.summary, [...req.options]) }),
  );
}
