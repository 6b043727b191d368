/**
 * `identity`: answers `spark.v1.request.build` (`{session_id}`) with
 * `{prompt}` — the configured persona (`[env] system_prompt`, else a
 * built-in default describing the agent and its tool policy) followed by the
 * workspace's `AGENTS.md` when there is one (capped at
 * `[env] agents_md_max_chars`; a missing or unreadable file is left out).
 *
 * @module
 */
import {
  type CapsuleContext,
  defineCapsule,
  host,
  HostCallError,
  type IdentityRequest,
  type InterceptEvent,
} from "@astrid/sdk";

/** The persona used when `system_prompt` is not configured. */
const DEFAULT_PROMPT =
  `You are Astrid, a coding agent working in the user's workspace.
You can call tools to read and change files and to run commands. Use them to
find out what you need instead of guessing, and prefer small, verifiable steps.
Every tool call passes a security gate: a call may be refused or need the
user's approval. When a call is refused or fails, read the error, do not retry
the same call blindly, and explain what you could not do. Never try to work
around a refusal. Changes you make land in a session overlay the user reviews.
When the task is done, answer with a short summary of what you did.`;

const DEFAULT_AGENTS_MAX = 32_000;

async function agentsMd(max: number): Promise<string | null> {
  let text: string;
  try {
    text = await host.fs.read("AGENTS.md");
  } catch (err) {
    if (err instanceof HostCallError && err.code === "ABORTED") throw err;
    // silent-ok: a missing (or unreadable) AGENTS.md is optional; the prompt goes without it
    return null;
  }
  if (text.trim() === "") return null;
  return text.length > max
    ? `${text.slice(0, max)}\n[AGENTS.md truncated at ${max} characters]`
    : text;
}

export default defineCapsule({
  interceptors: {
    /** `spark.v1.request.build` → `{prompt}`. */
    async build(_event: InterceptEvent<IdentityRequest>, ctx: CapsuleContext) {
      // The settings come from the handler context (no host call).
      const get = (key: string) =>
        Object.hasOwn(ctx.config, key) ? ctx.config[key] : undefined;
      const configured = get("system_prompt")?.trim();
      const n = Number(get("agents_md_max_chars"));
      const max = Number.isFinite(n) && n > 0 ? n : DEFAULT_AGENTS_MAX;
      const parts = [configured || DEFAULT_PROMPT];
      const agents = await agentsMd(max);
      if (agents !== null) {
        parts.push(
          `The workspace's AGENTS.md (instructions from the project):\n\n${agents}`,
        );
      }
      return { type: "final", payload: { prompt: parts.join("\n\n") } };
    },
  },
});
