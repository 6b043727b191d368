/**
 * The `mcp_permission_check` part of `action_info.ts` (private to
 * `kernel/security/`): risk, summary and resource of a Deno permission
 * request forwarded by an MCP server's permission broker.
 *
 * @module
 */
import type {
  Action,
  DenoPermission,
  Permission,
  RiskLevel,
} from "./action.ts";
import { classifyHost, hostFromUrl, parseHostPort } from "./net_address.ts";

const PERMISSION_RISK: Readonly<Record<DenoPermission, RiskLevel>> = {
  read: "low",
  import: "low",
  env: "medium",
  write: "medium",
  net: "medium",
  run: "critical",
  ffi: "critical",
  sys: "critical",
};

const PERMISSION_TOKEN: Readonly<Record<DenoPermission, Permission>> = {
  read: "read",
  write: "write",
  run: "execute",
  net: "invoke",
  env: "invoke",
  ffi: "invoke",
  sys: "invoke",
  import: "invoke",
};

/** Risk, summary and resource of an action, before validation. */
export interface Draft {
  risk: RiskLevel;
  summary: string;
  resource?: readonly [string, Permission];
  isRead?: boolean;
  /** Identifiers inside the resource, which must be safe names. */
  names?: readonly string[];
}

/** Callbacks that record the paths, hosts and problems of an action. */
export interface Collect {
  path(p: string): string | null;
  host(h: string | null, raw: string): void;
  problem(message: string): void;
}

/**
 * Describes an `mcp_permission_check`.
 *
 * @param a The action.
 * @param c Where to record its paths, hosts and problems.
 * @returns Its draft.
 */
export function permissionCheck(
  a: Extract<Action, { type: "mcp_permission_check" }>,
  c: Collect,
): Draft {
  const { path, host } = c;
  const perm = a.permission;
  const v = a.value;
  const known = Object.hasOwn(PERMISSION_RISK, perm);
  let suffix = "";
  if (v === null) {
    suffix = "";
  } else if (perm === "read" || perm === "write" || v.startsWith("/")) {
    suffix = path(v) ?? v;
  } else if (perm === "net") {
    const hp = parseHostPort(v);
    host(hp?.host ?? null, v);
    suffix = hp === null
      ? `/${v}`
      : `/${hp.host}${hp.port === null ? "" : `:${hp.port}`}`;
  } else {
    if (perm === "import") importTarget(v, c);
    suffix = `/${v}`;
  }
  const draft: Draft = {
    risk: known ? PERMISSION_RISK[perm] : "critical",
    summary: `MCP server '${a.server}' wants ${perm} access to ${
      v ?? "everything"
    }`,
    isRead: perm === "read",
    names: [a.server],
  };
  return known
    ? {
      ...draft,
      resource: [
        `mcp-perm://${a.server}:${perm}${suffix}`,
        PERMISSION_TOKEN[perm],
      ],
    }
    : draft;
}

/** The target of a Deno `import` permission: a local path, a URL or a host. */
function importTarget(v: string, c: Collect): void {
  const { path, host } = c;
  if (v.startsWith("/")) path(v);
  else if (v.startsWith("file:")) {
    let p: string | null = null;
    try {
      p = decodeURIComponent(new URL(v).pathname);
    } catch {
      p = null; // silent-ok: reported below as an invalid path
    }
    path(p ?? v);
  } else if (v.includes("://")) host(hostFromUrl(v), v);
  else host(parseHostPort(v)?.host ?? null, v);
}

/**
 * The canonical form of a host, or `null` when invalid.
 *
 * @param h The host.
 * @returns The canonical host.
 */
export function hostOf(h: string): string | null {
  const c = classifyHost(h);
  return c.kind === "invalid" ? null : c.normalized;
}
