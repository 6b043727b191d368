/**
 * The "launch" of a remote `[[mcp_server]] url = …`: no process, an HTTP
 * endpoint whose every request is a gate decision — the counterpart of
 * `launch_server.ts` for servers reached over Streamable HTTP.
 *
 * Security model: each HTTP request of the MCP session (the `server/discover`
 * probe or `initialize`, `tools/list`, `tools/call`, the event stream, the
 * session's DELETE) is decided by `Gate.run` as `capsule_http_request
 * {capsule_id, url, method}` — the action of the http host call, so the
 * manifest's `net` grant, the security policy's host rules (private,
 * loopback and metadata addresses refused unless
 * `security.allow_private_networks`) and the audit chain apply exactly as
 * they do to a guest's `http_request`. The allowed request goes through the
 * kernel's checked fetch (`kernel/abi/_checked_fetch.ts`): the host name is
 * resolved once, every address must be public, and the connection goes to
 * that address (a second DNS answer cannot move it). Only the configured
 * origin is ever requested; a redirect (3xx) is refused, never followed.
 * `{{secret:NAME}}` placeholders in the manifest's headers are substituted
 * at each (re)connect after their own `secret_use` decision (secret
 * declared in `[env]`, host in `net`); the value lives only in this
 * closure, never in an error, a log line or the audit chain.
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";
import type { GateContext } from "../../../security/context.ts";
import type { Gate } from "../../../security/gate.ts";
import type { McpHttpServerDef } from "../../manifest/manifest_types.ts";
import { SECRET_PLACEHOLDER } from "../../manifest/_mcp_remote.ts";
import type { McpHttpEndpoint } from "./client/mod.ts";
import type { LaunchedServer } from "./server_process.ts";

/** One HTTP request as the kernel's checked fetch takes it. */
export interface RemoteRequestInit {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

/** What the engine needs to reach remote MCP servers. */
export interface McpRemoteDeps {
  /**
   * The kernel's checked fetch (DNS resolved once, public addresses only,
   * connection pinned to the checked address, redirects not followed).
   */
  fetch(url: URL, init: RemoteRequestInit): Promise<Response>;
  /** Reads a capsule's secret (`null` when unset). */
  secret(capsule: string, name: string): Promise<string | null>;
}

/** Options of {@linkcode createRemoteLauncher}. */
export interface RemoteLaunchOptions {
  readonly capsule: string;
  readonly def: McpHttpServerDef;
  readonly gate: Pick<Gate, "run">;
  readonly ctx: () => GateContext;
  readonly remote: McpRemoteDeps;
}

/**
 * Builds the launcher of one remote server.
 *
 * @param o The capsule, the server, the gate and the kernel's fetch.
 * @returns `launch(signal)` for `McpServerProcess`.
 */
export function createRemoteLauncher(
  o: RemoteLaunchOptions,
): { launch(signal: AbortSignal): Promise<LaunchedServer> } {
  const url = new URL(o.def.url);
  return {
    launch: async (signal) => {
      const headers = await resolveHeaders(o, url, signal);
      let markLost = (): void => {};
      const lost = new Promise<void>((resolve) => (markLost = resolve));
      const endpoint: McpHttpEndpoint = {
        url,
        fetch: (target, init) =>
          gatedRequest(o, url, headers, target, init, markLost),
      };
      return { endpoint, lost, cleanup: () => Promise.resolve() };
    },
  };
}

async function resolveHeaders(
  o: RemoteLaunchOptions,
  url: URL,
  signal: AbortSignal,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const host = url.hostname.replace(/^\[|\]$/g, "");
  for (const [name, template] of Object.entries(o.def.headers)) {
    let value = template;
    for (const m of [...template.matchAll(SECRET_PLACEHOLDER)]) {
      const secret = m[1]!;
      const plain = await o.gate.run(
        { type: "secret_use", capsule_id: o.capsule, name: secret, host },
        o.ctx(),
        { signal, effect: () => o.remote.secret(o.capsule, secret) },
      );
      if (plain === null) {
        throw new KernelError(
          "NOT_FOUND",
          `Secret '${secret}' for MCP server '${o.def.id}' is not set for capsule '${o.capsule}'`,
        );
      }
      value = value.replaceAll(m[0], plain);
    }
    out[name] = value;
  }
  return out;
}

async function gatedRequest(
  o: RemoteLaunchOptions,
  base: URL,
  extra: Record<string, string>,
  target: URL,
  init: RequestInit,
  markLost: () => void,
): Promise<Response> {
  if (target.origin !== base.origin) {
    throw new KernelError(
      "POLICY_BLOCKED",
      `MCP server '${o.def.id}' may only be reached at ${base.origin}`,
    );
  }
  const method = (init.method ?? "GET").toUpperCase();
  const body = init.body;
  if (body !== undefined && body !== null && typeof body !== "string") {
    throw new TypeError("The MCP transport sent a non-text body");
  }
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  Object.assign(headers, extra);
  const signal = init.signal ?? new AbortController().signal;
  return await o.gate.run(
    {
      type: "capsule_http_request",
      capsule_id: o.capsule,
      url: target.href,
      method,
    },
    o.ctx(),
    {
      signal,
      effect: async () => {
        let res: Response;
        try {
          res = await o.remote.fetch(target, {
            method,
            headers,
            signal,
            ...(typeof body === "string" ? { body } : {}),
          });
        } catch (err) {
          if (KernelError.is(err) || signal.aborted) throw err;
          markLost();
          throw new KernelError(
            "HOST_IO",
            `Cannot reach MCP server '${o.def.id}' at ${base.origin}`,
          );
        }
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => {}); // silent-ok: body unused
          throw new KernelError(
            "POLICY_BLOCKED",
            `MCP server '${o.def.id}' answered with a redirect (${res.status}), which is not followed`,
          );
        }
        if (res.status === 404 && headers["mcp-session-id"] !== undefined) {
          // The server forgot the session: reconnect (a fresh initialize).
          markLost();
        }
        return res;
      },
    },
  );
}
