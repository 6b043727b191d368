// deno-lint-ignore-file no-console -- the server reports a refused start on stderr
/**
 * The headless server: the daemon's API over HTTP with bearer auth, for
 * `deno serve` (and Deno Deploy):
 *
 * ```sh
 * ASTRID_HOME=/srv/astrid ASTRID_SERVE_TOKEN=$(openssl rand -base64 32) \
 *   deno serve --host 127.0.0.1 --port 8787 \
 *   --allow-read --allow-write --allow-env --allow-net kernel/serve.ts
 * ```
 *
 * `deno serve` listens on every interface unless `--host` says otherwise;
 * put TLS (a reverse proxy) in front of anything not on loopback. Requires
 * `ASTRID_HOME` (its state, a file system: Deno Deploy without one is not
 * supported yet) and `ASTRID_SERVE_TOKEN` (≥ 32
 * characters; clients send `Authorization: Bearer <token>`, e.g. the CLI
 * with `--url` and `ASTRID_TOKEN`). Without `--allow-run` the MCP engine is
 * reported unavailable and sessions run without it. SIGINT/SIGTERM close
 * the sessions and flush the kernel before exit.
 *
 * @module
 */
import { startHeadless } from "./server/headless.ts";
import type { HeadlessServer } from "./server/headless.ts";
import { toWireError } from "./core/errors.ts";
import { createDenoSignals } from "./host/mod.ts";

let server: HeadlessServer;
try {
  server = await startHeadless();
} catch (err) {
  const wire = toWireError(err);
  console.error(`error[${wire.code}]: ${wire.message}`);
  Deno.exit(1);
}

try {
  createDenoSignals().onShutdown(() => {
    server.close().finally(() => Deno.exit(0));
  });
} catch {
  // silent-ok: no signals here (e.g. Deno Deploy); the platform stops the isolate
}

/** The `deno serve` entry: every request goes through the API's router. */
export default {
  fetch: (request: Request, info: Deno.ServeHandlerInfo): Promise<Response> =>
    server.fetch(request, info),
} satisfies Deno.ServeDefaultExport;
