/**
 * The limits of the MCP actions whose fields come straight from an MCP
 * server — resource URIs, prompt names, elicitation messages and URLs,
 * sampling sizes — and of the engine-computed `args_hash` of a tool call.
 * `actionInfo()` reports a violation in `invalid` (and maps no resource);
 * `SecurityPolicy` blocks the action with rule `invalid_action`.
 *
 * Security model: every such field is untrusted. Text is bounded (URI and
 * URL 2048 characters, message 4096, names and model 256) so an audit entry
 * stays small; control and invisible format characters (NUL, newlines in
 * a URI, bidi overrides) are refused so what a human reads is what runs.
 * A resource URI needs a scheme and has no `..` segment, plain or
 * percent-encoded. An elicitation URL must be `http:` or `https:` with a
 * valid host and no userinfo (`https://bank.com@evil.com/` is refused, not
 * guessed at), so `javascript:`, `data:` and `file:` never reach a human.
 *
 * @module
 */
import type { Action } from "./action.ts";
import { hostFromUrl } from "./net_address.ts";
import { canonicalBytes } from "../core/canonical_json.ts";
import { blake3Hex } from "../crypto/blake3.ts";
import type { JsonValue } from "../store/store.ts";

/** Longest resource URI or elicitation URL, in UTF-16 code units. */
export const MAX_MCP_URI_LENGTH = 2048;
/** Longest elicitation message, in UTF-16 code units. */
export const MAX_ELICITATION_MESSAGE_LENGTH = 4096;
/** Longest prompt name or sampling model name. */
export const MAX_MCP_NAME_LENGTH = 256;
/** Most tokens one sampling request may ask for. */
export const MAX_SAMPLING_TOKENS = 1_000_000;
/** Largest prompt of one sampling request, in characters. */
export const MAX_SAMPLING_PROMPT_CHARS = 100_000_000;

/** Control, format (bidi, zero-width) and line/paragraph separator characters. */
const HIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const DOT_DOT = /^(?:\.|%2e){2}$/i;
const ARGS_HASH = /^[0-9a-f]{64}$/;
/** A tool name on the bus: one topic segment (`sdk/agent.ts` isToolName). */
const HOST_TOOL = /^[A-Za-z0-9_:-]{1,64}$/;

/** A checked elicitation URL (see {@linkcode elicitationUrl}). */
export type ElicitationUrl =
  | {
    readonly ok: true;
    /** The canonical host (punycode, dotted-quad IPv4, bare IPv6). */
    readonly host: string;
    /** What a human is shown: scheme, host and port, path elided, e.g. `https://github.com/…`. */
    readonly shown: string;
  }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks the URL an MCP server asks the human to open.
 *
 * @param url The URL from the server.
 * @returns The canonical host and display form, or why it is refused.
 * @throws {TypeError} When `url` is not a string.
 *
 * @example Only plain http(s) URLs, shown by their real host
 * ```ts
 * import assert from "node:assert/strict";
 * import { elicitationUrl } from "./mcp_request.ts";
 * assert.deepEqual(elicitationUrl("https://GitHub.com/login/device?x=1"), {
 *   ok: true, host: "github.com", shown: "https://github.com/…",
 * });
 * assert.equal(elicitationUrl("javascript:alert(1)").ok, false);
 * assert.equal(elicitationUrl("https://bank.com@evil.com/").ok, false);
 * ```
 */
export function elicitationUrl(url: string): ElicitationUrl {
  if (typeof url !== "string") throw new TypeError("URL is not a string");
  const no = (why: string): ElicitationUrl => ({
    ok: false,
    reason: `Elicitation URL ${quote(url)} ${why}`,
  });
  if (url.length > MAX_MCP_URI_LENGTH) {
    return no(`is longer than ${MAX_MCP_URI_LENGTH} characters`);
  }
  if (HIDDEN.test(url) || /\s/.test(url)) {
    return no("contains a space, control or invisible character");
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return no("is not a valid URL"); // silent-ok: reported as refused
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return no(
      `has scheme '${parsed.protocol}'; only http and https are allowed`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return no("has userinfo, which can disguise the real host");
  }
  const host = hostFromUrl(url);
  if (host === null) return no("has no valid host");
  const port = parsed.port === "" ? "" : `:${parsed.port}`;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return { ok: true, host, shown: `${parsed.protocol}//${shownHost}${port}/…` };
}

/**
 * Why the server-supplied fields of an MCP action are unacceptable, or
 * `null` when they are fine (also for every non-MCP action).
 *
 * Checked: `mcp_tool_call.args_hash` and `mcp_host_tool_call.args_hash`
 * (64 lower-case hex digits when present); `mcp_host_tool_call.tool` (a bus
 * tool name: 1-64 of `[A-Za-z0-9_:-]`, so no dot or wildcard); `mcp_resource_read.uri` (non-empty, at most 2048 characters, a
 * scheme, no control or invisible character, no `..` segment);
 * `mcp_prompt_get.name` (non-empty, at most 256, no control or invisible
 * character); `mcp_elicitation` (mode `form` without a URL or `url` with a
 * URL passing {@linkcode elicitationUrl}, message at most 4096 characters
 * without NUL); `mcp_sampling` (`max_tokens` an integer 1–1_000_000,
 * `prompt_chars` an integer 0–100_000_000, `model` 1–256 visible characters
 * when present). Server names are checked by the name rules of
 * `actionInfo()`.
 *
 * @param action The action.
 * @returns The problem, or `null`.
 *
 * @example A resource URI with a NUL, and a sampling request of 0 tokens
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpRequestProblem } from "./mcp_request.ts";
 * assert.equal(mcpRequestProblem({ type: "mcp_resource_read", server: "fs", uri: "file:///ws/a" }), null);
 * assert.match(mcpRequestProblem({ type: "mcp_resource_read", server: "fs", uri: "file:///a\0" }) ?? "", /control/);
 * assert.match(
 *   mcpRequestProblem({ type: "mcp_sampling", server: "s", "max_tokens": 0, "prompt_chars": 10 }) ?? "",
 *   /max_tokens/,
 * );
 * ```
 */
export function mcpRequestProblem(action: Action): string | null {
  switch (action.type) {
    case "mcp_tool_call":
      return action.args_hash === undefined ||
          (typeof action.args_hash === "string" &&
            ARGS_HASH.test(action.args_hash))
        ? null
        : `args_hash of MCP tool '${action.server}:${action.tool}' is not 64 lower-case hex digits`;
    case "mcp_host_tool_call":
      if (!HOST_TOOL.test(action.tool)) {
        return `Tool name ${
          JSON.stringify(String(action.tool).slice(0, 80))
        } is not 1-64 of [A-Za-z0-9_:-]`;
      }
      return action.args_hash === undefined ||
          (typeof action.args_hash === "string" &&
            ARGS_HASH.test(action.args_hash))
        ? null
        : `args_hash of the call of tool '${action.tool}' is not 64 lower-case hex digits`;
    case "mcp_resource_read":
      return uriProblem(action.uri);
    case "mcp_prompt_get":
      return nameProblem(action.name, "Prompt name");
    case "mcp_elicitation":
      return elicitationProblem(action);
    case "mcp_sampling":
      return samplingProblem(action);
    default:
      return null;
  }
}

function uriProblem(uri: unknown): string | null {
  if (typeof uri !== "string" || uri === "") {
    return "Resource URI is empty or not a string";
  }
  const no = (why: string): string => `Resource URI ${quote(uri)} ${why}`;
  if (uri.length > MAX_MCP_URI_LENGTH) {
    return no(`is longer than ${MAX_MCP_URI_LENGTH} characters`);
  }
  if (HIDDEN.test(uri)) return no("contains a control or invisible character");
  if (!SCHEME.test(uri)) return no("has no scheme");
  if (uri.split(/[/\\]/).some((s) => DOT_DOT.test(s))) {
    return no("has a '..' segment");
  }
  return null;
}

function nameProblem(name: unknown, what: string): string | null {
  if (typeof name !== "string" || name === "") {
    return `${what} is empty or not a string`;
  }
  if (name.length > MAX_MCP_NAME_LENGTH) {
    return `${what} ${
      quote(name)
    } is longer than ${MAX_MCP_NAME_LENGTH} characters`;
  }
  return HIDDEN.test(name)
    ? `${what} ${quote(name)} contains a control or invisible character`
    : null;
}

function elicitationProblem(
  a: Extract<Action, { type: "mcp_elicitation" }>,
): string | null {
  if (typeof a.message !== "string" || a.message.includes("\0")) {
    return "Elicitation message is not a string or contains NUL";
  }
  if (a.message.length > MAX_ELICITATION_MESSAGE_LENGTH) {
    return `Elicitation message is longer than ${MAX_ELICITATION_MESSAGE_LENGTH} characters`;
  }
  if (a.mode === "form") {
    return a.url === undefined ? null : "A form elicitation cannot carry a URL";
  }
  if (a.mode !== "url") {
    return `Elicitation mode ${
      quote(String(a.mode))
    } is neither 'form' nor 'url'`;
  }
  if (typeof a.url !== "string") return "A URL elicitation needs a URL";
  const url = elicitationUrl(a.url);
  return url.ok ? null : url.reason;
}

function samplingProblem(
  a: Extract<Action, { type: "mcp_sampling" }>,
): string | null {
  if (
    !Number.isSafeInteger(a.max_tokens) || a.max_tokens < 1 ||
    a.max_tokens > MAX_SAMPLING_TOKENS
  ) {
    return `Sampling max_tokens ${
      String(a.max_tokens)
    } is not an integer from 1 to ${MAX_SAMPLING_TOKENS}`;
  }
  if (
    !Number.isSafeInteger(a.prompt_chars) || a.prompt_chars < 0 ||
    a.prompt_chars > MAX_SAMPLING_PROMPT_CHARS
  ) {
    return `Sampling prompt_chars ${
      String(a.prompt_chars)
    } is not an integer from 0 to ${MAX_SAMPLING_PROMPT_CHARS}`;
  }
  return a.model === undefined ? null : nameProblem(a.model, "Sampling model");
}

/** Quotes untrusted text for a reason, shortened. */
function quote(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);
}

/**
 * The `args_hash` of a tool call's arguments: lower-case hex BLAKE3-256 of
 * their canonical JSON (RFC 8785), so the audit entry names the exact
 * arguments without storing them.
 *
 * @param args The arguments.
 * @returns 64 lower-case hex digits.
 *
 * @example Key order does not change the hash
 * ```ts
 * import assert from "node:assert/strict";
 * import { argsHash } from "./mcp_request.ts";
 * assert.equal(argsHash({ a: 1, b: 2 }), argsHash({ b: 2, a: 1 }));
 * assert.match(argsHash({}), /^[0-9a-f]{64}$/);
 * ```
 */
export function argsHash(args: JsonValue): string {
  return blake3Hex(canonicalBytes(args));
}
