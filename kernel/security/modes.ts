/**
 * Workspace modes and the escape policy: whether an action that policy did not
 * block, and no token or allowance covers, needs a human.
 *
 * Security model (DESIGN §4):
 * - File actions on paths inside the workspace are allowed in every mode:
 *   writes land in the session's copy-on-write overlay, and reaching the real
 *   workspace needs an `overlay_commit`, which is itself gated.
 * - `safe`: asks before every other action (anything outside the workspace,
 *   network, processes, secrets, MCP permission checks, commits).
 * - `guided`: additionally auto-allows read-only actions; asks for writes
 *   outside the workspace, network, processes, secrets and commits.
 * - `autonomous`: asks nothing (policy, budget and audit still apply).
 * - `yolo`: autonomous, and the overlay commit is allowed without asking.
 * - Paths outside the workspace (safe, guided): `escape_policy` `deny` refuses,
 *   `ask` asks (guided still auto-allows reads), `allow` treats them as inside.
 * - `never_allow` prefixes are refused in every mode, before anything else.
 * - `auto_allow_read` / `auto_allow_write` prefixes are allowed like the workspace.
 * - MCP requests have no paths. Resource reads and prompt gets are reads: the
 *   policy allows them like tool calls, and when `approval_required_tools`
 *   names their server `safe` asks and `guided` allows them. Elicitation
 *   (the server asks the human) and sampling (the server spends the LLM
 *   budget) are not reads: `safe` and `guided` ask unless a token or an
 *   allowance covers them; `autonomous` and `yolo` allow them (sampling still
 *   reserves its budget).
 *
 * @module
 */
import * as path from "node:path";
import { isPathWithin } from "../core/path_within.ts";

/** The workspace mode, strictest first. */
export type Mode = "safe" | "guided" | "autonomous" | "yolo";
/** What to do with paths outside the workspace. */
export type EscapePolicy = "deny" | "ask" | "allow";

/** The mode settings from `[workspace]`. */
export interface ModeSettings {
  readonly mode: Mode;
  readonly escapePolicy: EscapePolicy;
  readonly neverAllow: readonly string[];
  readonly autoAllowRead: readonly string[];
  readonly autoAllowWrite: readonly string[];
}

/** What the mode needs to know about an action. */
export interface ModeInput {
  /** The action's `type`. */
  readonly type: string;
  /** Read-only (no state change anywhere). */
  readonly isRead: boolean;
  /** Absolute filesystem paths the action touches (may be empty). */
  readonly paths: readonly string[];
}

/** The mode's verdict. */
export type ModeVerdict =
  | { readonly result: "allow"; readonly reason: string }
  | { readonly result: "ask"; readonly reason: string }
  | { readonly result: "deny"; readonly reason: string };

function under(p: string, roots: readonly string[]): boolean {
  const target = path.posix.normalize(p);
  return roots.some((r) => isPathWithin(path.posix.normalize(r), target));
}

/**
 * Decides whether an action needs approval under the workspace mode.
 *
 * @param input The action's type, read-only flag and paths.
 * @param options The workspace root and mode settings.
 * @returns `allow`, `ask` or `deny` with a reason for the audit proof.
 */
export function modeVerdict(
  input: ModeInput,
  options: { workspace: string; settings: ModeSettings },
): ModeVerdict {
  const { workspace, settings } = options;
  const never = input.paths.find((p) => under(p, settings.neverAllow));
  if (never !== undefined) {
    return { result: "deny", reason: `${never} is in workspace.never_allow` };
  }
  if (input.type === "overlay_commit") {
    return settings.mode === "yolo"
      ? { result: "allow", reason: "yolo mode commits the overlay" }
      : { result: "ask", reason: "committing the overlay needs a human" };
  }
  if (settings.mode === "autonomous" || settings.mode === "yolo") {
    return { result: "allow", reason: `${settings.mode} mode` };
  }
  const autoAllow = input.isRead
    ? [...settings.autoAllowRead, ...settings.autoAllowWrite]
    : settings.autoAllowWrite;
  const outside = input.paths.filter((p) =>
    !under(p, [workspace, ...autoAllow])
  );
  if (input.paths.length > 0 && outside.length === 0) {
    return { result: "allow", reason: "inside the workspace" };
  }
  if (outside.length > 0 && settings.escapePolicy === "deny") {
    return {
      result: "deny",
      reason: `${outside[0]} is outside the workspace (escape_policy = deny)`,
    };
  }
  const escapesAllowed = outside.length > 0 &&
    settings.escapePolicy === "allow";
  if (escapesAllowed && input.paths.length > 0) {
    return { result: "allow", reason: "escape_policy = allow" };
  }
  if (settings.mode === "guided" && input.isRead) {
    return { result: "allow", reason: "guided mode allows reads" };
  }
  return {
    result: "ask",
    reason: `${settings.mode} mode asks before ${input.type}`,
  };
}
