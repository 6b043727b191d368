/**
 * Explains why a kernel tool run (`deno bundle`, `deno cache`, `deno info`)
 * failed when the cause is a download: the package or module it needed, the
 * network's answer, and how to fix it — instead of the tool's raw output.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/** A download a tool could not make. */
export interface FailedDownload {
  /** The URL the tool tried to fetch. */
  readonly url: string;
  /** The npm package it belongs to, when the tool named one. */
  readonly pkg: string | undefined;
  /** The network's answer, one line (e.g. `invalid peer certificate: UnknownIssuer`). */
  readonly reason: string;
}

const URL_PATTERNS = [
  /Failed (?:loading|downloading|caching|fetching) (https?:\/\/\S+?)(?:\s|$)/,
  /error sending request for url \((https?:\/\/[^)\s]+)\)/,
  /Import '(https?:\/\/[^']+)' failed/,
];
const PKG_PATTERN = /for package "([^"]+)"/;
const REASON_PATTERNS = [
  /invalid peer certificate: \w+/,
  /certificate verify failed[^\n]*/,
  /dns error: [^\n]*/,
  /Connection refused[^\n]*/,
  /connection (?:reset|closed)[^\n]*/i,
  /timed out[^\n]*/,
  /No such host is known[^\n]*/,
  /client error \(Connect\)[^\n]*/,
  /proxy[^\n]*/i,
];

/**
 * Finds a failed download in a tool's stderr.
 *
 * @param stderr The tool's standard error, colours off.
 * @returns What could not be downloaded, or `undefined` when the failure is
 *   something else (a syntax error, a missing file).
 *
 * @example
 * ```ts
 * import { failedDownload } from "./tool_failure.ts";
 * const d = failedDownload(
 *   'error: Failed loading https://registry.npmjs.org/@esbuild%2flinux-x64 for package "@esbuild/linux-x64"\n' +
 *     "Caused by: client error (Connect): invalid peer certificate: UnknownIssuer",
 * );
 * console.assert(d?.pkg === "@esbuild/linux-x64");
 * console.assert(d?.reason === "invalid peer certificate: UnknownIssuer");
 * ```
 */
export function failedDownload(stderr: string): FailedDownload | undefined {
  let url: string | undefined;
  for (const p of URL_PATTERNS) {
    const m = p.exec(stderr);
    if (m?.[1]) {
      url = m[1].replace(/[.,:;]+$/, "");
      break;
    }
  }
  if (url === undefined) return undefined;
  let reason = "the download failed";
  for (const p of REASON_PATTERNS) {
    const m = p.exec(stderr);
    if (m) {
      reason = m[0].trim();
      break;
    }
  }
  return { url, pkg: PKG_PATTERN.exec(stderr)?.[1], reason };
}

/**
 * The `TOOL_DOWNLOAD` error of a kernel tool run that failed on a download:
 * what was being done, what it needed, the network's answer, and the two ways
 * out — never the tool's raw output or a stack. `undefined` when the failure
 * is something else (the caller reports it its own way).
 *
 * @param what What the tool was doing (`Bundling capsule 'x'`).
 * @param stderr The tool's standard error, colours off.
 * @param data More structured detail for the error (the URL is added).
 * @returns The error to throw, or `undefined`.
 *
 * @example
 * ```ts
 * import { downloadError } from "./tool_failure.ts";
 * const err = downloadError(
 *   "Bundling capsule 'notes'",
 *   "error sending request for url (https://registry.npmjs.org/esbuild): dns error: no such host",
 * );
 * console.assert(err?.code === "TOOL_DOWNLOAD");
 * console.assert(err?.message.includes("deno task setup"));
 * ```
 */
export function downloadError(
  what: string,
  stderr: string,
  data: Readonly<Record<string, unknown>> = {},
): KernelError | undefined {
  const d = failedDownload(stderr);
  if (d === undefined) return undefined;
  const item = d.pkg ? `the npm package '${d.pkg}' (${d.url})` : d.url;
  return new KernelError(
    "TOOL_DOWNLOAD",
    `${what} needs ${item}, which is not in Deno's cache and could not be downloaded (${d.reason}). ` +
      "If this machine is online, check the proxy (HTTPS_PROXY, NO_PROXY) and certificate " +
      "(DENO_CERT, NODE_EXTRA_CA_CERTS) settings of the process that runs Astrid; " +
      "otherwise pre-fetch everything once while online with `deno task setup` " +
      "(same DENO_DIR), then work offline.",
    { data: { ...data, url: d.url } },
  );
}
