/**
 * Where the running Deno is and what environment its tool subprocesses
 * (`deno cache`, `deno info`, `deno bundle`) need: the cache dir, and the
 * certificate and proxy settings for downloads. Servers never get this
 * environment; only the kernel's own tool runs do.
 *
 * @module
 */
import * as path from "node:path";
import type { Env } from "../core/ports.ts";

/** The running Deno and its tool environment. */
export interface DenoToolchain {
  /** The `deno` executable running the kernel. */
  readonly denoPath: string;
  /** Deno's cache dir (`DENO_DIR`, else `$XDG_CACHE_HOME/deno`, else `~/.cache/deno`). */
  readonly denoDir: string | undefined;
  /** The environment of tool runs (HOME, PATH, cache, certificates, proxies). */
  readonly toolEnv: Readonly<Record<string, string>>;
}

const TOOL_ENV = [
  "HOME",
  "PATH",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NODE_EXTRA_CA_CERTS",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  "NPM_CONFIG_REGISTRY",
];

/**
 * Describes the running Deno.
 *
 * @param env The environment port.
 * @returns The executable, cache dir and tool environment.
 *
 * @example
 * ```ts
 * import { denoToolchain } from "./deno_toolchain.ts";
 * import { createDenoEnv } from "./deno_env.ts";
 * const t = denoToolchain(createDenoEnv());
 * console.assert(t.denoPath.length > 0);
 * ```
 */
export function denoToolchain(env: Env): DenoToolchain {
  const toolEnv: Record<string, string> = {};
  for (const k of TOOL_ENV) {
    const v = env.get(k);
    if (v !== undefined && v !== "") toolEnv[k] = v;
  }
  const home = toolEnv.HOME;
  const denoDir = toolEnv.DENO_DIR ??
    (toolEnv.XDG_CACHE_HOME
      ? path.join(toolEnv.XDG_CACHE_HOME, "deno")
      : home
      ? path.join(home, ".cache", "deno")
      : undefined);
  return { denoPath: Deno.execPath(), denoDir, toolEnv };
}
