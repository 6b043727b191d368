/**
 * TEMPORARY placeholder of the session hub (another engineer writes the real
 * one; the lead takes theirs at merge). It knows no sessions: `list` and
 * `counts` answer empty, `close` does nothing, every other method fails with
 * `INTERNAL`.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Env } from "../core/ports.ts";
import type { SessionHub } from "../api/session_hub.ts";
import type { KernelHandle } from "./boot.ts";

/** Options of {@linkcode createSessionHub}. */
export interface SessionHubOptions {
  /** The directories sessions may work in. */
  readonly roots: readonly string[];
  /** Environment. */
  readonly env?: Env;
  /** Whether MCP capsules can run (subprocesses permitted). */
  readonly mcpAvailable?: boolean;
}

/**
 * TEMPORARY: a hub with no sessions.
 *
 * @param kernel The kernel.
 * @param options Roots, env.
 * @returns The hub.
 */
export function createSessionHub(
  kernel: KernelHandle,
  options: SessionHubOptions,
): Promise<SessionHub> {
  void kernel;
  void options;
  const missing = (): Promise<never> =>
    Promise.reject(
      new KernelError("INTERNAL", "The session hub is not built yet"),
    );
  return Promise.resolve({
    list: () => Promise.resolve([]),
    create: missing,
    get: missing,
    delete: missing,
    messages: missing,
    prompt: missing,
    cancel: missing,
    events: () => ({
      [Symbol.asyncIterator]: () => ({ next: missing }),
    }),
    approvals: missing,
    answer: missing,
    diff: missing,
    commit: missing,
    discard: missing,
    reload: missing,
    counts: () => Promise.resolve({ known: 0, live: 0 }),
    close: () => Promise.resolve(),
  });
}
