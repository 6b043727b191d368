/**
 * Where the running Deno is and what environment its tool subprocesses need.
 *
 * Two kinds of child process, kept apart on purpose:
 *
 * - **Kernel tooling** — `deno bundle` (capsule builds), `deno cache` and
 *   `deno info` (MCP servers), the AssemblyScript compiler — runs on the
 *   kernel's behalf and must reach the package registry the way the kernel
 *   itself does. It gets exactly the variables of {@linkcode TOOL_ENV_NAMES}
 *   (cache location, certificates, proxies, registry), from this one list.
 * - **Capsule processes** — MCP servers and `process_spawn` — never get this
 *   environment: they start from an empty environment plus what their
 *   manifest grants by name.
 *
 * @module
 */
import { join } from "../core/posix_path.ts";
import type { Env } from "../core/ports.ts";
import { createDenoEnv } from "./deno_env.ts";

/** The running Deno and its tool environment. */
export interface DenoToolchain {
  /** The `deno` executable running the kernel. */
  readonly denoPath: string;
  /** Deno's cache dir (`DENO_DIR`, else `$XDG_CACHE_HOME/deno`, else `~/.cache/deno`). */
  readonly denoDir: string | undefined;
  /** The environment of tool runs (HOME, PATH, cache, certificates, proxies). */
  readonly toolEnv: Readonly<Record<string, string>>;
}

/**
 * The environment variables kernel tool runs inherit (when set), and nothing
 * else: where things live (`HOME`, `PATH`, `DENO_DIR`, `XDG_CACHE_HOME`),
 * which certificates to trust (`DENO_CERT`, `DENO_TLS_CA_STORE`,
 * `SSL_CERT_FILE`, `SSL_CERT_DIR`, `NODE_EXTRA_CA_CERTS`), how to reach the
 * network (`HTTP(S)_PROXY`, `NO_PROXY`, both cases), and which registry to
 * use and how to log in to it (`NPM_CONFIG_REGISTRY`, `npm_config_registry`,
 * `DENO_AUTH_TOKENS`).
 */
export const TOOL_ENV_NAMES: readonly string[] = Object.freeze([
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
  "npm_config_registry",
  "DENO_AUTH_TOKENS",
]);

/**
 * Describes the running Deno.
 *
 * @param env The environment port (default: the process environment).
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
export function denoToolchain(env: Env = createDenoEnv()): DenoToolchain {
  const toolEnv: Record<string, string> = {};
  for (const k of TOOL_ENV_NAMES) {
    const v = env.get(k);
    if (v !== undefined && v !== "") toolEnv[k] = v;
  }
  const home = toolEnv.HOME;
  const denoDir = toolEnv.DENO_DIR ??
    (toolEnv.XDG_CACHE_HOME
      ? join(toolEnv.XDG_CACHE_HOME, "deno")
      : home
      ? join(home, ".cache", "deno")
      : undefined);
  return { denoPath: Deno.execPath(), denoDir, toolEnv };
}
