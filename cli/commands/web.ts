/**
 * `astrid web [--port N] [--host H]`: serves the browser console
 * (`kernel/web/console.ts`) on loopback with `Deno.serve`; the console talks
 * to the daemon's socket through the same API as the CLI. It prints a
 * one-time login URL (single use, valid 5 minutes); the browser exchanges
 * it for an HttpOnly, SameSite=Strict session cookie.
 *
 * Bound to 127.0.0.1 unless `--host` names another address; then it warns
 * that the console speaks plain HTTP (put TLS in front) and no longer
 * checks the `Host` header (a reverse proxy may rewrite it).
 *
 * @module
 */
import { ApiClient, KernelError } from "../../kernel/api/client_kit.ts";
import type {
  ApiReply,
  CallOptions,
  RouteName,
} from "../../kernel/api/client_kit.ts";
import { createConsole } from "../../kernel/web/console.ts";
import { connectDaemon } from "../daemon_client.ts";
import type { GlobalFlags } from "../flags.ts";
import { note, out, UsageError } from "../output.ts";

/** Help text of `astrid web`. */
export const WEB_HELP = `astrid web — the browser console

Usage:
  astrid web [--port N] [--host 127.0.0.1]

Serves the console (sessions and live turns, approvals, workspace review,
audit, budgets, capsules) on http://127.0.0.1:N (default 8789; 0 = any free
port) and prints a one-time login URL: open it within 5 minutes; it works
once. Stop with Ctrl-C. The console reaches the daemon of $ASTRID_HOME (it
starts one when none runs).

--host with an address other than loopback exposes the console to the
network over plain HTTP: put a TLS proxy in front of it.`;

/** The default port of `astrid web`. */
export const WEB_PORT = 8789;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** An API client that reconnects (and restarts an ephemeral daemon) when the daemon went away. */
class DaemonLink extends ApiClient {
  #inner: ApiClient;
  readonly #connect: () => Promise<ApiClient>;

  constructor(inner: ApiClient, connect: () => Promise<ApiClient>) {
    super({ handler: () => Promise.reject(new Error("unused")) }, "");
    this.#inner = inner;
    this.#connect = connect;
  }

  override async send(
    route: RouteName,
    options: CallOptions = {},
  ): Promise<ApiReply> {
    try {
      return await this.#inner.send(route, options);
    } catch (err) {
      if (!KernelError.is(err, "DAEMON_UNAVAILABLE")) throw err;
      this.#inner.close();
      this.#inner = await this.#connect();
      return await this.#inner.send(route, options);
    }
  }

  override close(): void {
    this.#inner.close();
  }
}

/**
 * Runs `astrid web`.
 *
 * @param args Arguments after `web` (none).
 * @param flags Global flags (`--port`, `--host`, `--url`).
 * @returns The exit code (after Ctrl-C).
 */
export async function webCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  if (args.length > 0) {
    throw new UsageError("Expected: astrid web [--port N] [--host H]");
  }
  const port = flags.port === undefined ? WEB_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be 0–65535, not '${flags.port}'`);
  }
  const host = flags.host ?? "127.0.0.1";
  const loopback = LOOPBACK.has(host);
  if (!loopback) {
    note(
      `warning: the console listens on ${host}, beyond this machine, over plain HTTP: put TLS (a reverse proxy) in front of it`,
    );
  }
  using api = new DaemonLink(
    await connectDaemon(flags),
    () => connectDaemon(flags),
  );
  const web = (bound: number) =>
    createConsole({
      api,
      secureCookie: "auto",
      ...(loopback
        ? {
          allowedHosts: [
            `127.0.0.1:${bound}`,
            `localhost:${bound}`,
            `[::1]:${bound}`,
          ],
        }
        : {}),
    });
  let site: ReturnType<typeof web> | undefined;
  const server = Deno.serve({
    hostname: host.replace(/^\[|\]$/g, ""),
    port,
    onListen: ({ port: bound }) => {
      site = web(bound);
      const shown = loopback
        ? "127.0.0.1"
        : host.includes(":")
        ? `[${host}]`
        : host;
      out(`astrid web: the console serves http://${shown}:${bound}/`);
      out(
        `Open this one-time login URL (valid 5 minutes, works once):\n  http://${shown}:${bound}/login?token=${site.issueLoginToken()}`,
      );
    },
  }, (request, info) => {
    if (site === undefined) return new Response(null, { status: 503 });
    return site.handler(request, {
      remoteAddr: {
        transport: info.remoteAddr.transport,
        hostname: info.remoteAddr.hostname,
      },
    });
  });
  const stop = () => {
    site?.close(); // open event streams would hold the graceful shutdown
    server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await server.finished;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  return 0;
}
