/**
 * Host classification for egress rules: which hosts are public, and which
 * are loopback, private, link-local, CGNAT, unspecified, multicast,
 * broadcast, reserved or cloud-metadata endpoints.
 *
 * Security model: a host is normalised exactly the way `fetch()` will read
 * it — through the WHATWG URL parser — before it is classified, so every
 * spelling of an address lands on one canonical form: `2130706433`,
 * `0x7f000001`, `0177.0.0.1`, `127.1`, `127.0.0.%31` and full-width digits
 * all become `127.0.0.1`; IDN names become punycode; IPv4 addresses embedded
 * in IPv6 (`::ffff:127.0.0.1`, `::127.0.0.1`, `64:ff9b::7f00:1`, 6to4) are
 * unwrapped and classified as IPv4. Anything with a port, userinfo, path,
 * control character or space is `invalid`, never guessed at. Names that are
 * not on the public internet are classified too: `localhost` and
 * `*.localhost` are loopback; `metadata.google.internal`, `metadata.goog`,
 * `metadata`, `instance-data` and `instance-data.ec2.internal` are metadata;
 * other single-label names and `*.local`, `*.internal`, `*.localdomain`,
 * `*.home.arpa`, `*.lan` are private. The classification is lexical: a public
 * name whose DNS answer is private (rebinding, `127.0.0.1.nip.io`) must be
 * caught by the resolver (reference §6.9).
 *
 * @module
 */
import { memo } from "../core/bounded_memo.ts";
import {
  classifyIpv4,
  classifyIpv6,
  embeddedIpv4,
  formatIpv4,
  type HostKind,
  parseIpv4,
  parseIpv6,
} from "./_net_address_ip.ts";

export type { HostKind };

/** The result of {@linkcode classifyHost}. */
export interface HostClass {
  /** What the host is; `invalid` when it is not a bare host name or address. */
  readonly kind: HostKind;
  /**
   * The canonical host: lower-case punycode name without a trailing dot,
   * dotted-quad IPv4, or compressed IPv6 without brackets. `""` when invalid.
   */
  readonly normalized: string;
  /** The IPv4 address an IPv6 literal embeds (mapped, compatible, NAT64, 6to4). */
  readonly embeddedIpv4?: string;
  /** Why the host is invalid. */
  readonly reason?: string;
}

const METADATA_NAMES = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
]);

const PRIVATE_SUFFIXES = [
  ".local",
  ".internal",
  ".localdomain",
  ".home.arpa",
  ".lan",
];

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalises and classifies a host name or IP literal (IPv6 with or without
 * brackets).
 *
 * @param host The host as the action named it.
 * @returns Its kind and canonical form.
 * @throws {TypeError} When `host` is not a string.
 *
 * @example Every spelling of loopback is loopback
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyHost } from "./net_address.ts";
 * for (const h of ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "::ffff:127.0.0.1", "localhost"]) {
 *   assert.equal(classifyHost(h).kind, "loopback");
 * }
 * assert.deepEqual(classifyHost("API.Example.com."), { kind: "public", normalized: "api.example.com" });
 * assert.equal(classifyHost("169.254.169.254").kind, "metadata");
 * assert.equal(classifyHost("evil.com:80").kind, "invalid");
 * ```
 */
export function classifyHost(host: string): HostClass {
  if (typeof host !== "string") throw new TypeError("Host is not a string");
  return memo(HOSTS, host, classify);
}

/**
 * Results of {@linkcode classifyHost} and {@linkcode hostFromUrl} per input
 * string: both are pure functions of the string, and the gate asks them
 * several times per decision (`core/bounded_memo.ts`).
 */
const HOSTS = new Map<string, HostClass>();
const URL_HOSTS = new Map<string, string | null>();

function classify(host: string): HostClass {
  const invalid = (why: string): HostClass => ({
    kind: "invalid",
    normalized: "",
    reason: `Host ${
      JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}…` : host)
    } ${why}`,
  });
  if (host === "") return invalid("is empty");
  if (host.length > 1024) return invalid("is too long");
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(host)) {
    return invalid("contains a space or control character");
  }
  let input = host;
  if (input.startsWith("[") && !input.endsWith("]")) {
    return invalid("has a port or text after the IPv6 address");
  }
  if (!input.startsWith("[") && input.includes(":")) {
    if (input.split(":").length < 3) return invalid("has a port");
    input = `[${input}]`;
  }
  let url: URL;
  try {
    url = new URL(`http://${input}`);
  } catch {
    return invalid("is not a valid host name or IP address"); // silent-ok: reported as invalid
  }
  if (url.username !== "" || url.password !== "") {
    return invalid("has userinfo");
  }
  if (url.port !== "" || input.endsWith(":")) return invalid("has a port");
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    return invalid("has a path, query or fragment");
  }
  return classifyNormalized(url.hostname, invalid);
}

/**
 * The host a URL really targets, as the URL parser (and so `fetch()`) reads
 * it: userinfo tricks like `http://api.github.com@127.0.0.1/` resolve to
 * `127.0.0.1`.
 *
 * @param url The URL.
 * @returns The canonical host (see {@linkcode HostClass.normalized}), or
 * `null` when the URL is invalid or has no valid host.
 *
 * @example Userinfo does not fool it
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostFromUrl } from "./net_address.ts";
 * assert.equal(hostFromUrl("http://api.github.com@127.0.0.1/"), "127.0.0.1");
 * assert.equal(hostFromUrl("https://[::ffff:7f00:1]:8443/x"), "::ffff:7f00:1");
 * assert.equal(hostFromUrl("not a url"), null);
 * ```
 */
export function hostFromUrl(url: string): string | null {
  if (typeof url !== "string") throw new TypeError("URL is not a string");
  return memo(URL_HOSTS, url, urlHostOf);
}

function urlHostOf(url: string): string | null {
  const parsed = urlParts(url);
  if (parsed === null || parsed.hostname === "") return null;
  const c = classifyHost(parsed.hostname);
  return c.kind === "invalid" ? null : c.normalized;
}

/** The parts of a URL the gate reads, as the URL parser reads them. */
export interface UrlParts {
  /** E.g. `https:`. */
  readonly protocol: string;
  /** As `URL.hostname` (IPv6 in brackets). */
  readonly hostname: string;
  /** As `URL.port` (`""` for the scheme's default). */
  readonly port: string;
}

const URL_PARTS = new Map<string, UrlParts | null>();

/**
 * `new URL(url)`'s protocol, host name and port, remembered per URL string
 * (bounded): a decision reads them several times.
 *
 * @param url The URL.
 * @returns The parts, or `null` when the URL does not parse.
 *
 * @example Parts of a URL
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlParts } from "./net_address.ts";
 * assert.deepEqual(urlParts("https://API.example.com:8443/x"), { protocol: "https:", hostname: "api.example.com", port: "8443" });
 * assert.equal(urlParts("not a url"), null);
 * ```
 */
export function urlParts(url: string): UrlParts | null {
  return memo(URL_PARTS, url, (u) => {
    try {
      const { protocol, hostname, port } = new URL(u);
      return { protocol, hostname, port };
    } catch {
      return null; // silent-ok: the caller reports an unparsable URL
    }
  });
}

function classifyNormalized(
  hostname: string,
  invalid: (why: string) => HostClass,
): HostClass {
  if (hostname.startsWith("[")) {
    const text = hostname.slice(1, -1);
    const words = parseIpv6(text);
    if (words === null) return invalid("is not a valid IPv6 address");
    const v4 = embeddedIpv4(words);
    if (v4 === null) {
      return { kind: classifyIpv6(words, text), normalized: text };
    }
    return {
      kind: classifyIpv4(v4),
      normalized: text,
      embeddedIpv4: formatIpv4(v4),
    };
  }
  const v4 = parseIpv4(hostname);
  if (v4 !== null) return { kind: classifyIpv4(v4), normalized: hostname };
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  const labels = name.split(".");
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    return invalid("is not a valid host name");
  }
  return { kind: classifyName(name, labels.length), normalized: name };
}

function classifyName(name: string, labels: number): HostKind {
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  if (METADATA_NAMES.has(name)) return "metadata";
  if (labels === 1 || PRIVATE_SUFFIXES.some((s) => name.endsWith(s))) {
    return "private";
  }
  return "public";
}

/** A host with an optional port, as parsed by {@linkcode parseHostPort}. */
export interface HostPort {
  /** The canonical host (see {@linkcode HostClass.normalized}). */
  readonly host: string;
  /** The port, or `null` when none was given. */
  readonly port: number | null;
}

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal —
 * the shape of a Deno `net` permission value.
 *
 * @param value The text.
 * @returns The canonical host and port, or `null` when the host is invalid or
 * the port is not 1–65535.
 * @throws {TypeError} When `value` is not a string.
 *
 * @example Ports and encodings
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHostPort } from "./net_address.ts";
 * assert.deepEqual(parseHostPort("API.example.com:443"), { host: "api.example.com", port: 443 });
 * assert.deepEqual(parseHostPort("[::1]:8080"), { host: "::1", port: 8080 });
 * assert.deepEqual(parseHostPort("2130706433"), { host: "127.0.0.1", port: null });
 * assert.equal(parseHostPort("example.com:99999"), null);
 * ```
 */
export function parseHostPort(value: string): HostPort | null {
  if (typeof value !== "string") throw new TypeError("Value is not a string");
  let host = value;
  let portText: string | undefined;
  const bracket = /^(\[[^\]]*\])(?::([^:]*))?$/.exec(value);
  if (bracket !== null) {
    host = bracket[1] ?? "";
    portText = bracket[2];
  } else if (value.split(":").length === 2) {
    [host = "", portText] = value.split(":");
  }
  let port: number | null = null;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  const c = classifyHost(host);
  return c.kind === "invalid" ? null : { host: c.normalized, port };
}
