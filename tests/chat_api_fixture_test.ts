/**
 * A scripted daemon API for the chat TUI's tests: the REAL `Router` of
 * `kernel/api/router.ts` (bearer auth, bounded bodies, coded errors, SSE via
 * `sseResponse`) with session, prompt, cancel and approval routes whose turns
 * are scripted — so the wire format is exactly the daemon's while the test
 * decides what the agent does:
 *
 * - a prompt streams `turn_start`, text, a budget event, a `tool_call`, an
 *   `approval_required` that waits until `POST /v1/approvals/:id` answers it,
 *   then `approval_decision`, `tool_result`, more text and `final`;
 * - the prompt `slow` streams some text and waits until
 *   `POST /v1/sessions/:id/cancel`, then ends with the `ABORTED` error;
 * - the prompt `stubborn` streams some text and never ends (it ignores
 *   cancels) until the client goes away;
 * - a commit asks an approval (listed by `GET /v1/approvals`) and commits
 *   when it is allowed;
 * - `defer()` adds a deferred approval request;
 * - a session's messages are its finished scripted turns.
 *
 * Served in-process (`handler`) or on loopback TCP (`serve()`).
 *
 * @module
 */
import type {
  ApprovalInfo,
  PromptStreamEvent,
  SessionInfo,
  WorkspaceChange,
} from "../kernel/api/contract.ts";
import {
  jsonResponse,
  Router,
  sseResponse,
  stringField,
} from "../kernel/api/router.ts";
import { KernelError } from "../kernel/core/errors.ts";
import type { ApprovalAnswer } from "../sdk/turn.ts";
import type { Message } from "../sdk/llm.ts";

const ANSWERS: readonly ApprovalAnswer[] = [
  "allow_once",
  "allow_session",
  "allow_workspace",
  "allow_always",
  "deny",
];

/** The scripted API and what clients did to it. */
export interface ScriptedApi {
  /** The bearer token. */
  readonly token: string;
  /** The fetch handler (the real router). */
  readonly handler: (request: Request) => Promise<Response>;
  /** Every approval answer posted: request id and decision. */
  readonly answers: { request_id: string; decision: string }[];
  /** Every cancel posted: the session id. */
  readonly cancels: string[];
  /** Every prompt posted. */
  readonly prompts: string[];
  /** Every session created: its workspace. */
  readonly created: string[];
  /** Adds a deferred approval request of a session (answered through the API like any other). */
  defer(session: string, action: string, resource: string): string;
  /** Serves it on 127.0.0.1 (a free port); returns the base URL. */
  serve(): string;
  /** Stops the server and ends every waiting turn. */
  close(): Promise<void>;
}

interface Waiter {
  readonly info: ApprovalInfo;
  readonly resolve: (decision: ApprovalAnswer) => void;
}

/**
 * Starts the scripted API.
 *
 * @param token The bearer token it wants.
 * @returns The API.
 */
export function scriptedApi(token = "chat-test-token"): ScriptedApi {
  const answers: ScriptedApi["answers"] = [];
  const cancels: string[] = [];
  const prompts: string[] = [];
  const created: string[] = [];
  const sessions = new Map<string, SessionInfo>();
  const history = new Map<string, Message[]>();
  const pending = new Map<string, Waiter>();
  const cancelWaiters = new Map<string, () => void>();
  const closers = new Set<() => void>();
  let approvals = 0;

  const waitFor = <T>(
    signal: AbortSignal,
    register: (resolve: (v: T) => void) => void,
  ): Promise<T | undefined> =>
    new Promise((resolve) => {
      const done = (v: T | undefined) => {
        closers.delete(stop);
        signal.removeEventListener("abort", stop);
        resolve(v);
      };
      const stop = () => done(undefined);
      closers.add(stop);
      signal.addEventListener("abort", stop);
      register((v) => done(v));
    });

  async function* approvalTurn(
    session: string,
    signal: AbortSignal,
  ): AsyncGenerator<PromptStreamEvent> {
    yield { type: "turn_start", turn_id: `turn-${prompts.length}`, session };
    yield { type: "text_delta", text: "Hello " };
    yield { type: "text_delta", text: "from the scripted turn." };
    yield { type: "budget", spent_usd: 0.0123, limit_usd: 5 };
    yield {
      type: "tool_call",
      id: "call-1",
      name: "write_file",
      arguments: { path: "notes.txt", content: "hi" },
    };
    const request_id = `apr-${++approvals}`;
    const info: ApprovalInfo = {
      request_id,
      kind: "pending",
      session,
      action: "fs_write",
      resource: "notes.txt",
      risk: "medium",
      summary: "write notes.txt",
      options: ANSWERS,
      created_at: Date.now(),
    };
    yield {
      type: "approval_required",
      request_id,
      action: info.action,
      resource: info.resource,
      risk: info.risk,
      options: info.options,
    };
    const decision = await waitFor<ApprovalAnswer>(signal, (resolve) => {
      pending.set(request_id, { info, resolve });
    });
    pending.delete(request_id);
    if (decision === undefined) return;
    yield { type: "approval_decision", request_id, decision };
    const denied = decision === "deny";
    yield {
      type: "tool_result",
      id: "call-1",
      is_error: denied,
      content: denied ? "denied by the user" : "wrote notes.txt (2 bytes)",
    };
    yield { type: "text_delta", text: denied ? "I may not." : "All done." };
    history.set(session, [
      ...history.get(session) ?? [],
      { role: "user", content: [{ type: "text", text: prompts.at(-1)! }] },
      {
        role: "assistant",
        content: [{ type: "text", text: "Hello from the scripted turn." }, {
          type: "tool_use",
          id: "call-1",
          name: "write_file",
          input: { path: "notes.txt" },
        }],
      },
    ]);
    yield {
      type: "final",
      text: "Hello from the scripted turn.All done.",
      usage: { input_tokens: 12, output_tokens: 34 },
    };
  }

  async function* slowTurn(
    session: string,
    signal: AbortSignal,
  ): AsyncGenerator<PromptStreamEvent> {
    yield { type: "turn_start", turn_id: `turn-${prompts.length}`, session };
    yield { type: "text_delta", text: "Working on it, slowly" };
    const cancelled = await waitFor<true>(signal, (resolve) => {
      cancelWaiters.set(session, () => resolve(true));
    });
    cancelWaiters.delete(session);
    if (cancelled === undefined) return;
    yield { type: "error", code: "ABORTED", message: "The turn was cancelled" };
  }

  async function* stubbornTurn(
    session: string,
    signal: AbortSignal,
  ): AsyncGenerator<PromptStreamEvent> {
    yield { type: "turn_start", turn_id: `turn-${prompts.length}`, session };
    yield { type: "text_delta", text: "Ignoring cancels" };
    await waitFor<never>(signal, () => {});
  }

  const known = (id: string): SessionInfo => {
    const s = sessions.get(id);
    if (!s) throw new KernelError("NOT_FOUND", `No session ${id}`);
    return s;
  };

  const router = new Router()
    .on("sessionsCreate", async (ctx) => {
      const workspace = stringField(await ctx.json(), "workspace");
      created.push(workspace);
      const id = crypto.randomUUID();
      const info: SessionInfo = {
        id,
        workspace,
        created_at: Date.now(),
        updated_at: Date.now(),
        turns: 0,
        title: null,
        busy: false,
        pending_approvals: 0,
      };
      sessions.set(id, info);
      return jsonResponse(info, 201);
    })
    .on("sessionsList", () => jsonResponse([...sessions.values()]))
    .on("sessionsShow", (ctx) => jsonResponse(known(ctx.params["id"]!)))
    .on("sessionMessages", (ctx) => {
      const id = ctx.params["id"]!;
      known(id);
      return jsonResponse(history.get(id) ?? []);
    })
    .on("sessionPrompt", async (ctx) => {
      const id = ctx.params["id"]!;
      known(id);
      const text = stringField(await ctx.json(), "text");
      prompts.push(text);
      // as the daemon: closing the stream only detaches this reader
      const detach = new AbortController();
      const stream = text === "slow"
        ? slowTurn(id, detach.signal)
        : text === "stubborn"
        ? stubbornTurn(id, detach.signal)
        : approvalTurn(id, detach.signal);
      return sseResponse(stream, () => detach.abort());
    })
    .on("sessionCancel", (ctx) => {
      const id = ctx.params["id"]!;
      known(id);
      cancels.push(id);
      cancelWaiters.get(id)?.();
      return jsonResponse({ cancelled: id });
    })
    .on("approvalsList", (ctx) => {
      const session = ctx.url.searchParams.get("session");
      return jsonResponse(
        [...pending.values()].map((w) => w.info).filter((a) =>
          session === null || a.session === session
        ),
      );
    })
    .on("approvalsAnswer", async (ctx) => {
      const id = ctx.params["id"]!;
      const decision = stringField(await ctx.json(), "decision");
      const waiter = pending.get(id);
      if (!waiter) {
        throw new KernelError("NOT_FOUND", `No pending approval ${id}`);
      }
      if (!ANSWERS.includes(decision as ApprovalAnswer)) {
        throw new KernelError("API_BAD_REQUEST", `Bad decision ${decision}`);
      }
      answers.push({ request_id: id, decision });
      waiter.resolve(decision as ApprovalAnswer);
      return jsonResponse({ answered: id });
    })
    .on("workspaceDiff", (ctx) => {
      known(ctx.params["id"]!);
      const changes: WorkspaceChange[] = [{
        change: "added",
        path: "notes.txt",
        diff: "+hi",
      }];
      return jsonResponse(changes);
    });

  router.on("workspaceCommit", async (ctx) => {
    const session = ctx.params["id"]!;
    known(session);
    const body = await ctx.json();
    const paths = Array.isArray(body["paths"])
      ? body["paths"].map(String)
      : ["notes.txt"];
    const request_id = `apr-${++approvals}`;
    const info: ApprovalInfo = {
      request_id,
      kind: "pending",
      session,
      action: "workspace_commit",
      resource: paths.join(", "),
      risk: "high",
      summary: `commit ${paths.join(", ")}`,
      options: ANSWERS,
      created_at: Date.now(),
    };
    const decision = await waitFor<ApprovalAnswer>(ctx.signal, (resolve) => {
      pending.set(request_id, { info, resolve });
    });
    pending.delete(request_id);
    if (decision === undefined || decision === "deny") {
      throw new KernelError("APPROVAL_DENIED", "The commit was denied");
    }
    return jsonResponse({ committed: paths.map((p) => `write ${p}`) });
  });

  const handler = router.handler({ token: () => token });
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  return {
    token,
    handler,
    answers,
    cancels,
    prompts,
    created,
    defer(session, action, resource) {
      const request_id = `deferred-${++approvals}`;
      pending.set(request_id, {
        info: {
          request_id,
          kind: "deferred",
          session,
          action,
          resource,
          risk: "low",
          summary: `${action} ${resource}`,
          reason: "nobody answered in time",
          options: ANSWERS,
          created_at: Date.now(),
        },
        resolve: () => pending.delete(request_id),
      });
      return request_id;
    },
    serve() {
      server = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        handler,
      );
      return `http://127.0.0.1:${server.addr.port}`;
    },
    async close() {
      for (const stop of [...closers]) stop();
      await server?.shutdown();
    },
  };
}
