/**
 * Layer 0 of the gate: the capsule's manifest `[capabilities]` must cover the
 * action. Outside the manifest ⇒ deny immediately, never ask.
 *
 * Security model: every list is an allow-list and an empty list denies. Paths
 * are compared component-wise after lexical normalisation; a `..` component
 * never matches. `run`, `ffi` and `sys` permission checks of MCP subprocesses
 * are never granted (DESIGN §6: never `--allow-run`, `--allow-ffi`). Every
 * MCP request — tool call, resource read, prompt get, elicitation, sampling —
 * needs its server in `mcp_servers` (or `*`).
 *
 * @module
 */
import * as path from "node:path";
import { isPathWithin } from "../core/path_within.ts";
import type { Action } from "./action.ts";
import type { GateContext } from "./context.ts";
import { urlParts } from "./net_address.ts";

/** The `[capabilities]` of a capsule manifest, as the gate needs them. */
export interface CapsuleGrants {
  /** Readable path prefixes: `cwd://sub`, `home://sub`, `*` (workspace), or absolute. */
  readonly fs_read: readonly string[];
  /** Writable path prefixes (same forms). */
  readonly fs_write: readonly string[];
  /**
   * Outbound hosts: `*`, or a domain matching itself and its subdomains;
   * optionally with `:port` (`[v6]:port` for IPv6). For HTTP, an entry
   * without a port covers only the scheme's default port (80, 443).
   */
  readonly net: readonly string[];
  /** Commands: a spawn is covered when its command line equals an entry or starts with entry + space. */
  readonly host_process: readonly string[];
  /** May accept socket connections. */
  readonly net_bind: boolean;
  /** MCP servers this capsule runs (`*` = any of its own). */
  readonly mcp_servers: readonly string[];
  /** Environment variable names an MCP subprocess may read. */
  readonly env: readonly string[];
  /** Secret names (`[env.X] type = "secret"`) the capsule may use in HTTP headers. */
  readonly secrets: readonly string[];
  /** Other action types explicitly granted (e.g. `capsule_execution`). */
  readonly other: readonly string[];
}

/** A manifest that grants nothing. */
export const NO_GRANTS: CapsuleGrants = Object.freeze({
  fs_read: [],
  fs_write: [],
  net: [],
  host_process: [],
  net_bind: false,
  mcp_servers: [],
  env: [],
  secrets: [],
  other: [],
});

/** Result of {@linkcode checkManifestGrant}. */
export type GrantCheck = { readonly ok: true } | {
  readonly ok: false;
  readonly reason: string;
};

/** Where `home://` points for the capsule's principal. */
export interface GrantOptions {
  /** Absolute principal home; `home://` entries are dropped when absent. */
  readonly principalHome?: string;
}

function resolveEntry(
  entry: string,
  ctx: GateContext,
  options: GrantOptions,
): string | null {
  if (entry === "*") return ctx.workspace;
  if (entry.startsWith("cwd://")) {
    return path.posix.join(ctx.workspace, entry.slice(6));
  }
  if (entry.startsWith("home://")) {
    return options.principalHome
      ? path.posix.join(options.principalHome, entry.slice(7))
      : null;
  }
  return path.posix.isAbsolute(entry) ? path.posix.normalize(entry) : null;
}

/**
 * Tells whether `p` lies component-wise under one of the prefixes.
 *
 * @param p The requested absolute path.
 * @param entries Manifest entries.
 * @param ctx The caller (workspace root).
 * @param options Principal home.
 * @returns `true` when covered.
 */
export function pathCovered(
  p: string,
  entries: readonly string[],
  ctx: GateContext,
  options: GrantOptions = {},
): boolean {
  if (
    !path.posix.isAbsolute(p) || p.includes("\0") || p.split("/").includes("..")
  ) return false;
  const target = path.posix.normalize(p);
  return entries.some((e) => {
    const root = resolveEntry(e, ctx, options);
    return root !== null && isPathWithin(root, target);
  });
}

/**
 * Tells whether a host is covered by a `net` list (`*`, exact, or subdomain).
 *
 * @param host The lower-case host.
 * @param entries The manifest's `net` list.
 * @returns `true` when covered.
 */
export function hostCovered(host: string, entries: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return entries.some((e) => {
    const d = splitNetEntry(e).host;
    return d === "*" || h === d || h.endsWith(`.${d}`);
  });
}

/**
 * Splits a `net` entry into its host (lower case, no brackets) and port
 * (`null` when it names none).
 *
 * @param entry `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6.
 * @returns Host and port.
 */
export function splitNetEntry(
  entry: string,
): { host: string; port: number | null } {
  const e = entry.toLowerCase();
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(e);
  if (bracket) {
    return {
      host: bracket[1]!,
      port: bracket[2] === undefined ? null : Number(bracket[2]),
    };
  }
  const named = /^([^:]+):(\d{1,5})$/.exec(e);
  if (named) return { host: named[1]!, port: Number(named[2]) };
  return { host: e, port: null };
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  "http:": 80,
  "https:": 443,
};

/**
 * Tells whether an HTTP(S) URL is covered by a `net` list: its host as
 * {@linkcode hostCovered}, and its port — the URL's explicit port or the
 * scheme's default — equal to the entry's port, or the scheme's default
 * when the entry names none.
 *
 * @param url The requested URL.
 * @param entries The manifest's `net` list.
 * @returns `true` when covered.
 */
export function urlCovered(url: string, entries: readonly string[]): boolean {
  const u = urlParts(url);
  if (u === null) return false; // an unparsable URL is simply not covered
  const fallback = DEFAULT_PORTS[u.protocol];
  if (fallback === undefined) return false;
  const port = u.port === "" ? fallback : Number(u.port);
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(
    /\.$/,
    "",
  );
  return entries.some((e) => {
    const entry = splitNetEntry(e);
    const d = entry.host;
    const hostOk = d === "*" || host === d || host.endsWith(`.${d}`);
    return hostOk && port === (entry.port ?? fallback);
  });
}

function commandCovered(
  command: string,
  args: readonly string[],
  entries: readonly string[],
): boolean {
  const line = [command, ...args].join(" ");
  return entries.some((e) =>
    e !== "" && (line === e || line.startsWith(`${e} `))
  );
}

function urlHost(url: string): string | null {
  return urlParts(url)?.hostname.replace(/^\[|\]$/g, "") ?? null;
}

/**
 * An MCP server's `net` permission check (`host` or `host:port`, IPv6 in
 * brackets): the host as {@linkcode hostCovered}; a port must be the
 * entry's, or 80/443 when the entry names none (like HTTP's default ports).
 */
function netValueCovered(value: string, entries: readonly string[]): boolean {
  const asked = splitNetEntry(value);
  const host = asked.host.replace(/\.$/, "");
  const port = asked.port;
  return entries.some((e) => {
    const entry = splitNetEntry(e);
    const d = entry.host;
    if (!(d === "*" || host === d || host.endsWith(`.${d}`))) return false;
    if (port === null) return true;
    return entry.port === null
      ? port === 80 || port === 443
      : port === entry.port;
  });
}

function urlPort(url: string): string {
  try {
    const u = new URL(url);
    return u.port || String(DEFAULT_PORTS[u.protocol] ?? "?");
  } catch {
    return "?"; // silent-ok: only used in a message
  }
}

function deny(reason: string): GrantCheck {
  return { ok: false, reason };
}

/**
 * Checks that the capsule's manifest covers the action. The kernel's own
 * actions (no `ctx.capsule`) skip this layer.
 *
 * @param action The requested action.
 * @param ctx The caller.
 * @param grants The capsule's `[capabilities]`.
 * @param options Principal home for `home://`.
 * @returns `{ ok: true }` or the reason it is outside the manifest.
 */
export function checkManifestGrant(
  action: Action,
  ctx: GateContext,
  grants: CapsuleGrants,
  options: GrantOptions = {},
): GrantCheck {
  if (ctx.capsule === undefined) return { ok: true };
  const ok: GrantCheck = { ok: true };
  const cover = (covered: boolean, what: string): GrantCheck =>
    covered ? ok : deny(`${what} is not granted by the manifest`);
  switch (action.type) {
    case "file_read":
      return cover(
        pathCovered(action.path, grants.fs_read, ctx, options),
        `reading ${action.path}`,
      );
    case "file_write":
    case "file_delete":
      return cover(
        pathCovered(action.path, grants.fs_write, ctx, options),
        `writing ${action.path}`,
      );
    case "capsule_file_access":
      return cover(
        pathCovered(
          action.path,
          action.mode === "read" ? grants.fs_read : grants.fs_write,
          ctx,
          options,
        ),
        `${action.mode} of ${action.path}`,
      );
    case "capsule_http_request": {
      const host = urlHost(action.url);
      if (host !== null && urlCovered(action.url, grants.net)) return ok;
      // The message parses the URL again: only on a refusal.
      return cover(
        false,
        `HTTP to ${host ?? "an invalid URL"} on port ${urlPort(action.url)}`,
      );
    }
    case "network_request":
      return cover(
        hostCovered(action.host, grants.net),
        `network access to ${action.host}`,
      );
    case "execute_command":
    case "capsule_process_spawn":
      return cover(
        commandCovered(action.command, action.args, grants.host_process),
        `running ${action.command}`,
      );
    case "capsule_net_bind":
      return cover(grants.net_bind, "accepting connections (net_bind)");
    case "mcp_tool_call":
    case "mcp_resource_read":
    case "mcp_prompt_get":
    case "mcp_elicitation":
    case "mcp_sampling":
      return cover(
        grants.mcp_servers.includes(action.server) ||
          grants.mcp_servers.includes("*"),
        `MCP server ${action.server}`,
      );
    case "mcp_permission_check":
      return checkMcpPermission(action, ctx, grants, options);
    case "secret_use":
      return cover(
        grants.secrets.includes(action.name) &&
          hostCovered(action.host, grants.net),
        `secret ${action.name} for ${action.host}`,
      );
    case "overlay_commit":
      return deny(
        "capsules cannot commit the overlay; only the human (or yolo mode) can",
      );
    default:
      return cover(grants.other.includes(action.type), `action ${action.type}`);
  }
}

function checkMcpPermission(
  action: Extract<Action, { type: "mcp_permission_check" }>,
  ctx: GateContext,
  grants: CapsuleGrants,
  options: GrantOptions,
): GrantCheck {
  const v = action.value ?? "";
  const granted = (() => {
    switch (action.permission) {
      case "import":
        // Deno reports a remote import as `host:port` (a local one as a path or file: URL).
        if (
          action.value !== null && !v.startsWith("/") &&
          !v.startsWith("file:") && !v.includes("/")
        ) {
          return hostCovered(
            v.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""),
            grants.net,
          );
        }
        return action.value !== null &&
          pathCovered(
            v.replace(/^file:\/\//, ""),
            grants.fs_read,
            ctx,
            options,
          );
      case "read":
        return action.value === null
          ? false
          : /^[a-z]+:/.test(v) && !v.startsWith("file:")
          ? hostCovered(urlHost(v) ?? "", grants.net)
          : pathCovered(
            v.replace(/^file:\/\//, ""),
            grants.fs_read,
            ctx,
            options,
          );
      case "write":
        return action.value !== null &&
          pathCovered(v, grants.fs_write, ctx, options);
      case "net":
        return action.value !== null && netValueCovered(v, grants.net);
      case "env":
        return action.value !== null && grants.env.includes(v);
      default:
        return false;
    }
  })();
  return granted ? { ok: true } : deny(
    `MCP ${action.permission} access to ${
      action.value ?? "everything"
    } is not granted by the manifest`,
  );
}
