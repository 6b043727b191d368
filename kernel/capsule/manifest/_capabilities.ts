/**
 * `[capabilities]` (reference §2.4) and the per-component subset that is
 * merged into it (§2.2).
 *
 * @module
 */
import type {
  IdentityPermission,
  ManifestCapabilities,
} from "./manifest_types.ts";
import { hasControl, type Reader, type Table } from "./_reader.ts";
import { topicPatternProblem } from "./_topic_rules.ts";

/** The fields a `[[component]] capabilities` table may set. */
export const COMPONENT_CAPABILITY_KEYS = [
  "fs_read",
  "fs_write",
  "host_process",
  "net",
  "net_bind",
] as const;

const KEYS = [
  "uplink",
  "net",
  "kv",
  "fs_read",
  "fs_write",
  "host_process",
  "net_bind",
  "ipc_publish",
  "ipc_subscribe",
  "identity",
  "allow_prompt_injection",
  "approval",
] as const;

type Check = { test: (s: string) => boolean; what: string };

function cleanRelative(sub: string): boolean {
  return sub === "" ||
    (!sub.startsWith("/") &&
      sub.replace(/\/$/, "").split("/").every((p) =>
        p !== "" && p !== "." && p !== ".."
      ));
}

/** `*`, `cwd://<sub>`, `home://<sub>` or an absolute path; never `..`. */
export const FS_ENTRY: Check = {
  test: (s) => {
    if (s.includes("\0")) return false;
    if (s === "*") return true;
    if (s.startsWith("cwd://")) return cleanRelative(s.slice(6));
    if (s.startsWith("home://")) return cleanRelative(s.slice(7));
    return s.startsWith("/") && !s.split("/").includes("..");
  },
  what:
    "'*', 'cwd://<sub>', 'home://<sub>' or an absolute path, without '..' components",
};

const HOST =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/i;
const IPV6 = /^[0-9a-f:.]+$/i;

const PORT =
  /^(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;

/**
 * `*`, a host name (its subdomains match too) or an IP address, optionally
 * with `:port` (`[v6]:port` for IPv6); without a port, HTTP uses only the
 * scheme's default port.
 */
export const NET_ENTRY: Check = {
  test: (s) => {
    const bracket = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(s);
    if (bracket) {
      return bracket[1]!.includes(":") &&
        (bracket[2] === undefined || PORT.test(bracket[2]));
    }
    const named = /^([^:]+):(\d+)$/.exec(s);
    const host = named ? named[1]! : s;
    if (named && !PORT.test(named[2]!)) return false;
    return host === "*" || HOST.test(host) ||
      (!named && s.includes(":") && IPV6.test(s));
  },
  what:
    "'*', a host name such as 'api.example.com' or an IP address, optionally with ':port' ('[::1]:8080' for IPv6), no scheme or path",
};

const COMMAND: Check = {
  test: (s) => s.trim() === s && s !== "" && !hasControl(s),
  what: "a command line without control characters or surrounding spaces",
};

const IDENTITY: Check = {
  test: (s) => s === "resolve" || s === "link" || s === "admin",
  what: "'resolve', 'link' or 'admin'",
};

/** A topic pattern for the ACLs and interceptor events. */
export const TOPIC_PATTERN: Check = {
  test: (s) => topicPatternProblem(s) === null,
  what:
    "a topic pattern of 1-8 dot-separated segments of [A-Za-z0-9_-] or '*', no empty segments, at most 256 bytes",
};

/** Reads the component-level capability lists (only the five mergeable ones). */
export function readComponentCapabilities(
  r: Reader,
  t: Table,
  key: string,
): Record<(typeof COMPONENT_CAPABILITY_KEYS)[number], string[]> {
  r.known(t, key, COMPONENT_CAPABILITY_KEYS);
  return {
    fs_read: r.strings(t, key, "fs_read", FS_ENTRY),
    fs_write: r.strings(t, key, "fs_write", FS_ENTRY),
    host_process: r.strings(t, key, "host_process", COMMAND),
    net: r.strings(t, key, "net", NET_ENTRY),
    net_bind: r.strings(t, key, "net_bind"),
  };
}

/**
 * Reads `[capabilities]` and appends `extra` (the component's lists),
 * removing duplicates while keeping first-seen order.
 */
export function readCapabilities(
  r: Reader,
  root: Table,
  extra: Partial<Record<string, readonly string[]>>,
): ManifestCapabilities {
  const raw = root["capabilities"];
  const t = raw === undefined ? {} : r.table(raw, "capabilities") ?? {};
  r.known(t, "capabilities", KEYS);
  const k = "capabilities";
  const merge = (field: string, own: string[]): string[] => [
    ...new Set([...own, ...(extra[field] ?? [])]),
  ];
  return {
    uplink: r.boolean(t, k, "uplink", false),
    net: merge("net", r.strings(t, k, "net", NET_ENTRY)),
    kv: r.strings(t, k, "kv"),
    fs_read: merge("fs_read", r.strings(t, k, "fs_read", FS_ENTRY)),
    fs_write: merge("fs_write", r.strings(t, k, "fs_write", FS_ENTRY)),
    host_process: merge(
      "host_process",
      r.strings(t, k, "host_process", COMMAND),
    ),
    net_bind: merge("net_bind", r.strings(t, k, "net_bind")),
    ipc_publish: r.strings(t, k, "ipc_publish", TOPIC_PATTERN),
    ipc_subscribe: r.strings(t, k, "ipc_subscribe", TOPIC_PATTERN),
    identity: r.strings(t, k, "identity", IDENTITY) as IdentityPermission[],
    allow_prompt_injection: r.boolean(t, k, "allow_prompt_injection", false),
    approval: r.boolean(t, k, "approval", false),
  };
}
