/**
 * The tool gateway calls of one live session (an MCP host's, see
 * `tool_gateway.ts`), as the session hub runs them: how many are in flight,
 * the session's approval listener while any is, and each call's event
 * stream.
 *
 * Security model: the approval listener is registered when the first call
 * starts and removed when the last ends, so the session's approval requests
 * are held for an API client only while a host's call may be waiting on
 * them. A request goes to the call it belongs to — the call whose id is the
 * request's agent or call id (its own decision, the effects of a bus tool
 * it runs) — and to every call in flight only when it names none. Closing
 * a call's stream cancels the call.
 *
 * @module
 */
import { toWireError } from "../core/errors.ts";
import type { ApprovalRequest } from "../security/approval/handler.ts";
import type { ToolCallBody, ToolCallStreamEvent } from "../api/contract.ts";
import { EventQueue, readQueue } from "./event_queue.ts";
import { callGatewayTool, type GatewaySession } from "./tool_gateway.ts";

/** The gateway calls of one session. */
export class SessionCalls {
  readonly #listen: () => () => void;
  #count = 0;
  #stop: (() => void) | undefined;
  readonly #streams = new Set<EventQueue<ToolCallStreamEvent>>();
  readonly #byId = new Map<string, EventQueue<ToolCallStreamEvent>>();

  /**
   * @param listen Registers the session's approval listener; returns its removal.
   */
  constructor(listen: () => () => void) {
    this.#listen = listen;
  }

  /** Counts a call (or a resource read / prompt fetch) in. */
  enter(): void {
    if (++this.#count === 1) this.#stop = this.#listen();
  }

  /**
   * Counts one out.
   *
   * @returns Whether it was the last.
   */
  leave(): boolean {
    if (--this.#count > 0) return false;
    this.#stop?.();
    this.#stop = undefined;
    return true;
  }

  /**
   * The streams an approval request (or its decision) goes to.
   *
   * @param request The kernel's request.
   * @returns The call's stream, or every call's when it names none.
   */
  of(request: ApprovalRequest): EventQueue<ToolCallStreamEvent>[] {
    const own = this.#byId.get(request.ctx.agent ?? "") ??
      this.#byId.get(request.ctx.callId);
    return own ? [own] : [...this.#streams];
  }

  /**
   * Runs one call (already counted in) and streams its events; `done` runs
   * once it is over (count it out there).
   *
   * @param session The kernel and the session's booted runtime.
   * @param body The tool, its arguments, the capsule filter.
   * @param options The reader's signal (aborting it cancels the call), `done`.
   * @returns Approval events while it waits, then `result` or `error`.
   */
  run(
    session: GatewaySession,
    body: ToolCallBody,
    options: { signal: AbortSignal; done: () => void },
  ): AsyncIterable<ToolCallStreamEvent> {
    const { signal, done } = options;
    const stream = new EventQueue<ToolCallStreamEvent>();
    const callId = `mcp-host-${crypto.randomUUID()}`;
    this.#streams.add(stream);
    this.#byId.set(callId, stream);
    callGatewayTool(session, {
      name: body.name,
      arguments: body.arguments ?? {},
      callId,
      signal,
      ...(body.capsules ? { capsules: body.capsules } : {}),
    }).then(
      (result) => stream.push(result),
      (err) => stream.push({ type: "error", ...toWireError(err) }),
    ).finally(() => {
      this.#streams.delete(stream);
      this.#byId.delete(callId);
      done();
      stream.end();
    });
    return readQueue(stream, signal);
  }
}
