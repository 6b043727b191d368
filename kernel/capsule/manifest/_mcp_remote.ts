/**
 * A remote `[[mcp_server]]`: `{id, description?, type = "http", url,
 * headers?}` — an MCP server reached over Streamable HTTP.
 *
 * Security model (what the manifest may say): the URL is `https:` or
 * `http:`, absolute, without userinfo (`user:pass@` would put a credential
 * in the manifest) or fragment, and its host and port must be covered by
 * `[capabilities] net` (the same rule the gate applies to every request, so
 * a manifest cannot name a server its capsule may not reach). Header names
 * are HTTP tokens; a header value may hold `{{secret:NAME}}` placeholders,
 * each naming an `[env.NAME]` of type `secret` (checked where the manifest
 * is assembled: `checkRemoteSecrets`); `Authorization`, `Proxy-Authorization` and
 * `Cookie` must take their credential from a placeholder, never literally.
 * Hop-by-hop and MCP protocol headers (`Host`, `Content-Length`,
 * `Mcp-Session-Id`, `Mcp-Protocol-Version`, …) are the transport's and are
 * refused.
 *
 * @module
 */
import { urlCovered } from "../../security/manifest_grant.ts";
import type { EnvDef, McpHttpServerDef } from "./manifest_types.ts";
import { dropUndefined } from "./_package.ts";
import { hasControl, join, type Reader, type Table } from "./_reader.ts";

/** `{{secret:NAME}}`, the placeholder syntax of the http host call. */
export const SECRET_PLACEHOLDER =
  /\{\{secret:([A-Za-z_][A-Za-z0-9_]{0,63})\}\}/g;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];
const RESERVED_HEADERS = [
  "host",
  "content-length",
  "content-type",
  "accept",
  "connection",
  "transfer-encoding",
  "te",
  "upgrade",
  "mcp-session-id",
  "mcp-protocol-version",
  "mcp-method",
  "mcp-name",
  "last-event-id",
];
const MAX_HEADERS = 32;
const MAX_URL = 2048;

/**
 * Reads the remote fields of one `[[mcp_server]]` table.
 *
 * @param r The reader (collects issues).
 * @param key The table's key, e.g. `mcp_server[1]`.
 * @param t The table.
 * @param net The capsule's `[capabilities] net`.
 * @returns The definition without its id, or `undefined` after recording issues.
 */
export function readRemoteServer(
  r: Reader,
  key: string,
  t: Table,
  net: readonly string[],
): Omit<McpHttpServerDef, "id"> | undefined {
  r.known(t, key, ["id", "description", "type", "url", "headers"]);
  const before = r.issues.length;
  r.string(t, key, "type", {
    test: (s) => s === "http",
    what: "'http' for a server given by 'url'",
  });
  const raw = r.required(t, key, "url", {
    test: (s) => s.length <= MAX_URL && !hasControl(s),
    what: `a URL of at most ${MAX_URL} characters`,
  });
  const url = raw === undefined ? undefined : checkUrl(r, key, raw, net);
  const headers = readHeaders(r, key, t["headers"]);
  const description = r.string(t, key, "description");
  if (r.issues.length > before || url === undefined) {
    return undefined;
  }
  return dropUndefined({
    type: "http" as const,
    url,
    headers,
    description,
  }) as Omit<McpHttpServerDef, "id">;
}

function checkUrl(
  r: Reader,
  key: string,
  raw: string,
  net: readonly string[],
): string | undefined {
  const at = join(key, "url");
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return r.expected(at, "an absolute http(s) URL", raw);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    return r.fail(at, `'${u.protocol}' is not allowed; use https: (or http:)`);
  }
  if (u.username !== "" || u.password !== "") {
    return r.fail(
      at,
      "a URL may not carry a user name or password; put the credential in headers as {{secret:NAME}}",
    );
  }
  if (u.hash !== "") return r.fail(at, "a URL may not have a fragment");
  if (SECRET_PLACEHOLDER.test(decodeURIComponent(raw))) {
    SECRET_PLACEHOLDER.lastIndex = 0;
    return r.fail(at, "a secret placeholder may appear only in a header value");
  }
  SECRET_PLACEHOLDER.lastIndex = 0;
  if (!urlCovered(u.href, net)) {
    return r.fail(
      at,
      `host '${u.host}' is not in capabilities.net; add it to reach this server`,
    );
  }
  return u.href;
}

function readHeaders(
  r: Reader,
  key: string,
  value: unknown,
): Record<string, string> {
  if (value === undefined) return {};
  const at = join(key, "headers");
  const t = r.table(value, at);
  if (t === undefined) return {};
  const out: Record<string, string> = {};
  const entries = Object.entries(t);
  if (entries.length > MAX_HEADERS) {
    r.fail(at, `expected at most ${MAX_HEADERS} headers`);
    return {};
  }
  for (const [name, v] of entries) {
    const here = join(at, name);
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) {
      r.expected(here, "a header name (an HTTP token)", name);
      continue;
    }
    if (RESERVED_HEADERS.includes(lower)) {
      r.fail(here, `header '${name}' is set by the MCP transport`);
      continue;
    }
    if (typeof v !== "string" || hasControl(v) || v.length > 8192) {
      r.expected(here, "a string of at most 8192 characters", v);
      continue;
    }
    const placeholders = [...v.matchAll(SECRET_PLACEHOLDER)];
    if (CREDENTIAL_HEADERS.includes(lower) && placeholders.length === 0) {
      r.fail(
        here,
        `header '${name}' carries a credential: write it as {{secret:NAME}} (an [env.NAME] of type secret), never literally`,
      );
      continue;
    }
    if (/\{\{/.test(v.replaceAll(SECRET_PLACEHOLDER, ""))) {
      r.fail(here, "a placeholder must read {{secret:NAME}}");
      continue;
    }
    out[name] = v;
  }
  return out;
}

/**
 * The secret names the headers of a remote server use.
 *
 * @param def The server.
 * @returns The distinct `NAME`s of its `{{secret:NAME}}` placeholders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secretNames } from "./_mcp_remote.ts";
 * const def = { id: "r", type: "http", url: "https://a.example/mcp", headers: { Authorization: "Bearer {{secret:TOKEN}}" } } as const;
 * assert.deepEqual(secretNames(def), ["TOKEN"]);
 * ```
 */
export function secretNames(def: McpHttpServerDef): string[] {
  const names = new Set<string>();
  for (const v of Object.values(def.headers)) {
    for (const m of v.matchAll(SECRET_PLACEHOLDER)) names.add(m[1]!);
  }
  return [...names];
}

/**
 * Records an issue for each placeholder that names no `[env.NAME]` of type
 * `secret`.
 *
 * @param r The reader.
 * @param servers The parsed servers.
 * @param env The parsed `[env]`.
 */
export function checkRemoteSecrets(
  r: Reader,
  servers: readonly { readonly type: string; readonly id: string }[],
  env: readonly EnvDef[],
): void {
  servers.forEach((s) => {
    if (s.type !== "http") return;
    for (const name of secretNames(s as McpHttpServerDef)) {
      if (env.find((e) => e.key === name)?.type !== "secret") {
        r.fail(
          `mcp_server '${s.id}'.headers`,
          `{{secret:${name}}} names no [env.${name}] of type 'secret'`,
        );
      }
    }
  });
}
