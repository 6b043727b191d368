/**
 * IP address arithmetic for `net_address.ts` (private to `kernel/security/`): parsing the canonical
 * WHATWG serialisations of IPv4 and IPv6 literals, unwrapping IPv4 addresses
 * embedded in IPv6 ones, and classifying both into address kinds.
 *
 * Security model: inputs come from `new URL()`, which already folded every
 * IPv4 spelling (decimal, hex, octal, short) into dotted quads and IPv6 into
 * compressed lower-case hex. Embedded IPv4 addresses (mapped, compatible,
 * SIIT-translated, NAT64 `64:ff9b::/96` and 6to4 `2002::/16`) are unwrapped
 * and classified as IPv4, so `::ffff:127.0.0.1` is loopback.
 *
 * @module
 */

/** What an address (or host name) is, for egress decisions. */
export type HostKind =
  | "public"
  | "loopback"
  | "private"
  | "link_local"
  | "cgnat"
  | "unspecified"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "metadata"
  | "invalid";

/** IPv4 addresses of cloud instance-metadata services. */
const METADATA_V4 = new Set([
  "169.254.169.254", // AWS, GCP, Azure, OCI, DigitalOcean, ...
  "169.254.170.2", // AWS ECS task metadata
  "100.100.100.200", // Alibaba Cloud
  "168.63.129.16", // Azure WireServer (host-internal, though not private)
]);

/** IPv6 addresses of cloud instance-metadata services (canonical form). */
const METADATA_V6 = new Set(["fd00:ec2::254"]);

/** `[first address, prefix length, kind]`, most specific first. */
const V4_RANGES: ReadonlyArray<readonly [string, number, HostKind]> = [
  ["255.255.255.255", 32, "broadcast"],
  ["0.0.0.0", 8, "unspecified"],
  ["127.0.0.0", 8, "loopback"],
  ["10.0.0.0", 8, "private"],
  ["172.16.0.0", 12, "private"],
  ["192.168.0.0", 16, "private"],
  ["169.254.0.0", 16, "link_local"],
  ["100.64.0.0", 10, "cgnat"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments
  ["198.18.0.0", 15, "reserved"], // benchmarking, often internal
];

/**
 * Parses a dotted-quad IPv4 address (four decimal parts 0–255, no leading zeros).
 *
 * @param s The address.
 * @returns The address as an unsigned 32-bit number, or `null`.
 */
export function parseIpv4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/**
 * Formats a 32-bit number as a dotted quad.
 *
 * @param n The address.
 * @returns The dotted quad.
 */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * Parses an IPv6 address in hex-group form (with at most one `::`, no zone).
 *
 * @param s The address without brackets.
 * @returns Its eight 16-bit groups, or `null`.
 */
export function parseIpv6(s: string): number[] | null {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (t: string): number[] | null => {
    if (t === "") return [];
    const out: number[] = [];
    for (const g of t.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/**
 * Finds an IPv4 address embedded in an IPv6 one: IPv4-mapped
 * `::ffff:0:0/96`, SIIT `::ffff:0:0:0/96`, IPv4-compatible `::/96` (except
 * `::` and `::1`), NAT64 `64:ff9b::/96`, and 6to4 `2002::/16`.
 *
 * @param w The eight groups.
 * @returns The embedded IPv4 address as a number, or `null`.
 */
export function embeddedIpv4(w: readonly number[]): number | null {
  const g = (i: number): number => w[i] ?? 0;
  const low = (g(6) * 65536 + g(7)) >>> 0;
  const zeros = (from: number, to: number): boolean =>
    w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g(5) === 0xffff) return low;
  if (zeros(0, 4) && g(4) === 0xffff && g(5) === 0) return low;
  if (zeros(0, 6) && low > 1) return low;
  if (g(0) === 0x64 && g(1) === 0xff9b && zeros(2, 6)) return low;
  if (g(0) === 0x2002) return (g(1) * 65536 + g(2)) >>> 0;
  return null;
}

/**
 * Classifies an IPv4 address.
 *
 * @param n The address as an unsigned 32-bit number.
 * @returns Its kind.
 */
export function classifyIpv4(n: number): HostKind {
  if (METADATA_V4.has(formatIpv4(n))) return "metadata";
  for (const [base, bits, kind] of V4_RANGES) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === parseIpv4(base)) return kind;
  }
  return "public";
}

/**
 * Classifies an IPv6 address that embeds no IPv4 address.
 *
 * @param w The eight groups.
 * @param text The canonical text, for the metadata list.
 * @returns Its kind.
 */
export function classifyIpv6(w: readonly number[], text: string): HostKind {
  if (METADATA_V6.has(text)) return "metadata";
  const g0 = w[0] ?? 0;
  if (w.every((x) => x === 0)) return "unspecified";
  if (w.slice(0, 7).every((x) => x === 0) && w[7] === 1) return "loopback";
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if ((g0 & 0xffc0) === 0xfe80) return "link_local";
  if ((g0 & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((g0 & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if (g0 === 0x64 && w[1] === 0xff9b && w[2] === 1) return "private"; // local NAT64
  if (g0 === 0x100 && w.slice(1, 4).every((x) => x === 0)) return "reserved"; // discard
  if (w.slice(0, 6).every((x) => x === 0)) return "reserved"; // rest of ::/96
  return "public";
}
