/**
 * The approval vocabulary shared with frontends: the five options, the
 * request a human sees, the answer, and the {@linkcode ApprovalHandler}
 * interface a frontend (TUI, CLI, remote client) implements.
 *
 * Security model: a handler's answer is untrusted input from a frontend;
 * {@linkcode parseApprovalResponse} accepts only one of the options offered
 * in the request and a short reason string, and anything else is treated as
 * no answer.
 *
 * @module
 */
import type { Action, RiskLevel } from "../action.ts";
import type { GateContext } from "../context.ts";

/** The five answers (reference §6.6). */
export type ApprovalOption =
  | "allow_once"
  | "allow_session"
  | "allow_workspace"
  | "allow_always"
  | "deny";

/** Every option, in display order. */
export const APPROVAL_OPTIONS: readonly ApprovalOption[] = Object.freeze([
  "allow_once",
  "allow_session",
  "allow_workspace",
  "allow_always",
  "deny",
]);

/** Display labels of the options. */
export const APPROVAL_OPTION_LABELS: Readonly<Record<ApprovalOption, string>> =
  Object.freeze({
    allow_once: "Allow Once",
    allow_session: "Allow Session",
    allow_workspace: "Allow Workspace",
    allow_always: "Allow Always",
    deny: "Deny",
  });

/** The longest reason kept from a handler's answer. */
export const MAX_REASON_LENGTH = 1_024;

/** What a human is asked. */
export interface ApprovalRequest {
  /** `approval:<uuid>`. */
  readonly id: string;
  /** The action awaiting approval. */
  readonly action: Action;
  /** A one-line human summary of the action. */
  readonly summary: string;
  /** How dangerous it is. */
  readonly risk: RiskLevel;
  /** Who asks (principal, session, capsule, workspace, call id). */
  readonly ctx: GateContext;
  /** The answers the human may give. */
  readonly options: readonly ApprovalOption[];
  /** When the request was made, ms since the epoch. */
  readonly "created_at": number;
}

/** A human's answer. */
export interface ApprovalResponse {
  /** The chosen option. */
  readonly decision: ApprovalOption;
  /** Why (shown in the audit log). */
  readonly reason?: string;
}

/** Options of {@linkcode ApprovalHandler.request}. */
export interface ApprovalHandlerRequestOptions {
  /** Fires when the answer is no longer wanted (timeout or cancellation): dismiss the prompt. */
  readonly signal: AbortSignal;
}

/**
 * A frontend that can put a request in front of a human. One handler may be
 * registered with the `ApprovalManager` at a time.
 */
export interface ApprovalHandler {
  /**
   * Whether a human can be asked right now (a client is connected).
   *
   * @returns `true` when available.
   */
  isAvailable(): boolean;
  /**
   * Asks a human.
   *
   * @param request The request to show.
   * @param options A signal that fires when the answer is no longer wanted.
   * @returns The answer, or `null` when the human did not answer.
   */
  request(
    request: ApprovalRequest,
    options: ApprovalHandlerRequestOptions,
  ): Promise<ApprovalResponse | null>;
}

/**
 * Validates a handler's answer against the options offered.
 *
 * @param raw The untrusted answer.
 * @param offered The options of the request.
 * @returns A clean response (reason trimmed, cut to
 * {@linkcode MAX_REASON_LENGTH} characters, control characters removed), or
 * `null` when the answer is malformed or not among the offered options.
 *
 * @example Accept only offered options
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseApprovalResponse } from "./handler.ts";
 * assert.deepEqual(
 *   parseApprovalResponse({ decision: "deny", reason: " no\u0007 " }, ["allow_once", "deny"]),
 *   { decision: "deny", reason: "no" },
 * );
 * assert.equal(parseApprovalResponse({ decision: "allow_always" }, ["allow_once", "deny"]), null);
 * assert.equal(parseApprovalResponse({ decision: "approve" }, ["allow_once"]), null);
 * ```
 */
export function parseApprovalResponse(
  raw: unknown,
  offered: readonly ApprovalOption[],
): ApprovalResponse | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return null;
  }
  const decision = (raw as Record<string, unknown>)["decision"];
  const reason = (raw as Record<string, unknown>)["reason"];
  if (!offered.includes(decision as ApprovalOption)) return null;
  if (reason !== undefined && typeof reason !== "string") return null;
  const clean = reason === undefined ? "" : cleanReason(reason);
  return clean === ""
    ? { decision: decision as ApprovalOption }
    : { decision: decision as ApprovalOption, reason: clean };
}

function cleanReason(reason: string): string {
  // deno-lint-ignore no-control-regex
  const stripped = reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim();
  return Array.from(stripped).slice(0, MAX_REASON_LENGTH).join("");
}
