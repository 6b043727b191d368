/**
 * The chat's calls to the daemon API, typed: sessions, the prompt stream,
 * cancel, approvals, the workspace overlay. A list answer is accepted as a
 * bare array or as an object holding it (`{ sessions: [...] }`), so the chat
 * does not break on either shape.
 *
 * @module
 */
import { type ApiClient, KernelError } from "../../kernel/api/client_kit.ts";
import type {
  ApprovalInfo,
  PromptStreamEvent,
  SessionInfo,
  WorkspaceChange,
} from "../../kernel/api/client_kit.ts";
import type { Message } from "../../sdk/llm.ts";
import type { ApprovalAnswer } from "../../sdk/turn.ts";

/** The session a chat works in. */
export interface ChatSession {
  /** The session id. */
  readonly id: string;
  /** Its workspace. */
  readonly workspace: string;
  /** Earlier messages (a continued session). */
  readonly history: readonly Message[];
}

/**
 * The items of a list answer, whether the daemon sends a bare array or an
 * object holding it under `key`.
 *
 * @param body The parsed answer.
 * @param key The field that may hold the list.
 * @returns The items (none when neither shape fits).
 */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const inner = (body as Record<string, unknown> | null)?.[key];
  return Array.isArray(inner) ? inner as T[] : [];
}

/**
 * The items of a stream until a signal aborts — at once, even while the
 * stream waits for its next item (a transport that does not end a body
 * when its request is aborted cannot hold the chat).
 *
 * @param source The stream.
 * @param signal Ends it.
 * @returns The items.
 * @throws {KernelError} `ABORTED` when the signal aborts.
 */
export async function* untilAborted<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(new KernelError("ABORTED", "The stream was dropped"));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {}); // silent-ok: the race below reports it
  try {
    while (true) {
      const next = await Promise.race([it.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    // not awaited: a stream stuck in its next item would hold us
    void Promise.resolve(it.return?.()).catch(() => {});
  }
}

/** The chat's side of the daemon API. */
export class ChatApi {
  readonly #client: ApiClient;

  /** @param client The API client (socket, URL or in-process). */
  constructor(client: ApiClient) {
    this.#client = client;
  }

  /**
   * Creates a session in a workspace, or continues one (with its history).
   *
   * @param target The workspace (absolute) or the session to continue.
   * @returns The session.
   */
  async open(
    target: { readonly workspace: string; readonly session?: string },
  ): Promise<ChatSession> {
    if (target.session === undefined) {
      const info = await this.#client.call<SessionInfo>("sessionsCreate", {
        body: { workspace: target.workspace },
      });
      return { id: info.id, workspace: info.workspace, history: [] };
    }
    const info = await this.#client.call<SessionInfo>("sessionsShow", {
      params: { id: target.session },
    });
    let history: Message[] = [];
    try {
      history = listOf<Message>(
        await this.#client.call("sessionMessages", {
          params: { id: info.id },
        }),
        "messages",
      );
    } catch {
      // silent-ok: a session without readable history still chats
    }
    return { id: info.id, workspace: info.workspace, history };
  }

  /**
   * Sends a prompt; yields the turn's events.
   *
   * @param session The session.
   * @param text The prompt.
   * @param signal Drops the stream.
   * @returns The events.
   */
  prompt(
    session: string,
    text: string,
    signal: AbortSignal,
  ): AsyncGenerator<PromptStreamEvent> {
    return untilAborted(
      this.#client.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: session },
        body: { text },
        signal,
      }),
      signal,
    );
  }

  /**
   * Cancels the session's running turn.
   *
   * @param session The session.
   * @param signal Gives up waiting.
   */
  async cancel(session: string, signal?: AbortSignal): Promise<void> {
    const r = await this.#client.raw("sessionCancel", {
      params: { id: session },
      ...(signal ? { signal } : {}),
    });
    await r.body?.cancel();
  }

  /**
   * Answers an approval request.
   *
   * @param requestId The request.
   * @param decision The answer.
   */
  async answer(requestId: string, decision: ApprovalAnswer): Promise<void> {
    const r = await this.#client.raw("approvalsAnswer", {
      params: { id: requestId },
      body: { decision },
    });
    await r.body?.cancel();
  }

  /** @returns Every session, as the daemon lists them. */
  async sessions(): Promise<SessionInfo[]> {
    return listOf<SessionInfo>(
      await this.#client.call("sessionsList"),
      "sessions",
    );
  }

  /**
   * @param session The session.
   * @returns Its pending and deferred approval requests.
   */
  async approvals(session: string): Promise<ApprovalInfo[]> {
    return listOf<ApprovalInfo>(
      await this.#client.call("approvalsList", { query: { session } }),
      "approvals",
    );
  }

  /**
   * @param session The session.
   * @returns The changes waiting in its overlay.
   */
  async diff(session: string): Promise<WorkspaceChange[]> {
    return listOf<WorkspaceChange>(
      await this.#client.call("workspaceDiff", { params: { id: session } }),
      "changes",
    );
  }

  /**
   * Commits the overlay (gated: its approval requests are listed by
   * {@linkcode ChatApi.approvals} while this waits).
   *
   * @param session The session.
   * @param paths Workspace-relative paths; none = every change.
   * @param signal Gives up waiting.
   * @returns What was committed.
   */
  async commit(
    session: string,
    paths: readonly string[],
    signal: AbortSignal,
  ): Promise<string[]> {
    return listOf<string>(
      await this.#client.call<unknown>("workspaceCommit", {
        params: { id: session },
        body: paths.length > 0 ? { paths } : {},
        signal,
      }),
      "committed",
    );
  }
}
