/**
 * Private: which booted session runtimes a session hub unloads so that a
 * long-lived daemon does not grow with every session it ever served.
 *
 * A session's runtime (its capsules: QuickJS contexts, wasm plug-ins, MCP
 * servers) costs a few MB and stays booted after its turn, so the next prompt
 * of the same session starts at once. The hub keeps at most `keep` idle ones
 * booted, the most recently used; the others are closed. A closed runtime is
 * booted again on the session's next use — its history lives in the store and
 * its overlay on disk, so nothing is lost. A runtime is idle only when nothing
 * uses it: no turn, workspace action or tool call (`busy`), no prompt stream
 * or `events()` subscriber, no approval request waiting, and it is not the
 * spare booted ahead for the next session.
 *
 * @module
 */
import type { Live } from "./_hub_live.ts";

/**
 * The idle booted sessions to unload: all but the `keep` most recently used.
 *
 * @param lives Every live session.
 * @param keep How many idle runtimes stay booted.
 * @param spare The spare session's live, never unloaded here.
 * @returns The sessions whose runtimes to close, least recently used first.
 */
export function idleToUnload(
  lives: Iterable<Live>,
  keep: number,
  spare: Live | undefined,
): Live[] {
  const idle = [...lives].filter((live) =>
    live !== spare && live.boot !== undefined && live.busy === null &&
    live.turnDone === undefined && live.streams.size === 0 &&
    live.subscribers.size === 0 &&
    ![...live.approvals.values()].some((p) => p.waiting())
  ).sort((a, b) => a.lastUsed - b.lastUsed);
  return idle.slice(0, Math.max(0, idle.length - keep));
}
