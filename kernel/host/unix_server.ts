/**
 * An HTTP server on a Unix socket that only its owner may connect to.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { hostError } from "./_host_error.ts";
import type { Logger } from "../core/ports.ts";

/** The longest Unix socket path (`sun_path` is 108 bytes on Linux, with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** A running socket server. */
export interface SocketServer {
  /** The socket path. */
  readonly path: string;
  /** Stops accepting connections and resolves once open requests have finished. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Serves a fetch handler on a Unix socket, then sets the socket's mode to
 * 0600 and verifies it (the directory around it, `run/`, is 0700, so nobody
 * else reaches the socket in the moment before the chmod).
 *
 * @param options Socket path, handler and logger.
 * @returns The server, listening.
 * @throws {KernelError} `HOME_INVALID` when the path is too long for a
 *   socket; `HOST_IO` when the socket cannot be created or its mode cannot
 *   be set to 0600.
 */
export async function serveUnixSocket(options: {
  readonly path: string;
  readonly handler: (request: Request) => Promise<Response>;
  readonly logger: Logger;
}): Promise<SocketServer> {
  const bytes = new TextEncoder().encode(options.path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new KernelError(
      "HOME_INVALID",
      `The daemon socket path is ${bytes} bytes long; Unix sockets allow ${MAX_SOCKET_PATH_BYTES}. Choose a shorter ASTRID_HOME`,
    );
  }
  let server: Deno.HttpServer<Deno.UnixAddr>;
  try {
    server = Deno.serve({
      path: options.path,
      onListen: () => {},
      onError: (err) => {
        options.logger.log("error", "API request failed", {
          error: err instanceof Error ? err.message : String(err),
        });
        return Response.json({
          error: { code: "INTERNAL", message: "Internal error" },
        }, { status: 500 });
      },
    }, options.handler);
  } catch (err) {
    throw hostError(err, "listen on the daemon socket");
  }
  try {
    await Deno.chmod(options.path, 0o600);
    const st = await Deno.lstat(options.path);
    if (
      st.isSocket !== true || (st.mode !== null && (st.mode & 0o777) !== 0o600)
    ) {
      throw new KernelError(
        "HOST_IO",
        "The daemon socket did not get mode 0600",
      );
    }
  } catch (err) {
    await server.shutdown().catch(() => {});
    throw hostError(err, "restrict the daemon socket to its owner");
  }
  return {
    path: options.path,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
