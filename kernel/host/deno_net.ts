/**
 * The {@linkcode Net} port: web `fetch`, HTTP over unix sockets (server and client).
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type {
  HttpHandler,
  ListenUnixOptions,
  Logger,
  Net,
  ServeUnixOptions,
  UnixHttpClient,
  UnixListener,
  UnixServer,
} from "../core/ports.ts";
import { hostError } from "./_host_error.ts";
import { listenUnixReclaiming } from "./_unix_listen.ts";
import { unixRequest } from "./_unix_http.ts";

/** The longest Unix socket path (`sun_path` is 108 bytes on Linux, with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Dependencies of {@linkcode createDenoNet}. */
export interface DenoNetDeps {
  /** Receives errors thrown by request handlers (they answer 500). */
  logger: Logger;
}

/**
 * Creates the real network adapter.
 *
 * Security model: `serveUnix()` sets the socket file to `0o600` (or
 * `options.mode`) before it resolves, so only the owner can connect; until
 * then the umask applies, which is why the socket belongs in a `0700`
 * directory (`run/`). It never replaces an existing file at `path`
 * (`HOST_IO`). A handler that throws answers `500` with no detail; the error
 * goes to the logger only. `listenUnix()` restricts its socket the same way
 * and removes the socket file when closed.
 *
 * @param deps The logger for handler errors.
 * @returns A {@linkcode Net}.
 * @throws {KernelError} From its methods: `HOST_PERMISSION_DENIED` without
 * `--allow-net`, `NOT_FOUND` when the socket's directory is missing, `HOST_IO`
 * for other failures (address in use, connection refused), `ABORTED`.
 *
 * @example Fetch through the port
 * ```ts
 * import { createDenoNet } from "./deno_net.ts";
 * import { MemoryLogger } from "../testing/memory_logger.ts";
 * const net = createDenoNet({ logger: new MemoryLogger() });
 * const res = await net.fetch("data:text/plain,pong");
 * console.assert((await res.text()) === "pong");
 * // With --allow-net: `await net.serveUnix(path, handler)` and `net.unixHttpClient(path).request({ method: "GET", target: "/" })`.
 * ```
 */
export function createDenoNet(deps: DenoNetDeps): Net {
  const { logger } = deps;
  return {
    fetch(
      input: string | URL | Request,
      init?: RequestInit,
    ): Promise<Response> {
      return guardedFetch(input, init);
    },
    serveUnix(
      path: string,
      handler: HttpHandler,
      options: ServeUnixOptions = {},
    ): Promise<UnixServer> {
      return serveUnix(path, handler, options, logger);
    },
    unixHttpClient(path: string): UnixHttpClient {
      return {
        request: (req) => unixRequest(path, req),
        close: () => {},
      };
    },
    listenUnix(
      path: string,
      options: ListenUnixOptions = {},
    ): Promise<UnixListener> {
      return listenUnix(path, options, logger);
    },
  };
}

async function listenUnix(
  path: string,
  options: ListenUnixOptions,
  logger: Logger,
): Promise<UnixListener> {
  const what = `listen on '${path}'`;
  throwIfAborted(options.signal, what);
  let found: Deno.UnixListener | null;
  try {
    found = await listenUnixReclaiming(path);
  } catch (err) {
    throw hostError(err, what);
  }
  if (found === null) {
    throw new KernelError(
      "HOST_IO",
      `Cannot ${what} as another process listens there`,
      { data: { inUse: true } },
    );
  }
  const listener = found;
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    closed ??= (async () => {
      options.signal?.removeEventListener("abort", onAbort);
      try {
        listener.close();
      } catch (err) {
        // silent-ok: already closed by the runtime; the file is still removed below
        if (!(err instanceof Deno.errors.BadResource)) throw err;
      }
      await Deno.remove(path).catch((err) => {
        if (!(err instanceof Deno.errors.NotFound)) {
          throw hostError(err, `remove the socket '${path}'`);
        }
      });
    })();
  const onAbort = (): void => {
    close().catch((error: unknown) =>
      logger.log("error", "Closing a unix listener failed", { path, error })
    );
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await Deno.chmod(path, options.mode ?? 0o600);
  } catch (err) {
    await close();
    throw hostError(err, `restrict the socket '${path}'`);
  }
  return {
    path,
    close,
    async *accept() {
      while (true) {
        let conn: Deno.UnixConn;
        try {
          conn = await listener.accept();
        } catch (err) {
          if (closed !== null) return;
          throw hostError(err, `accept on '${path}'`);
        }
        yield {
          readable: conn.readable,
          writable: conn.writable,
          close: () => {
            try {
              conn.close();
            } catch (err) {
              // silent-ok: closing twice (or after the streams closed it) is fine
              if (!(err instanceof Deno.errors.BadResource)) throw err;
            }
          },
        };
      }
    },
  };
}

async function serveUnix(
  path: string,
  handler: HttpHandler,
  options: ServeUnixOptions,
  logger: Logger,
): Promise<UnixServer> {
  const what = `serve HTTP on '${path}'`;
  throwIfAborted(options.signal, what);
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new KernelError(
      "HOME_INVALID",
      `The socket path is ${bytes} bytes long; Unix sockets allow ${MAX_SOCKET_PATH_BYTES}. Choose a shorter ASTRID_HOME`,
    );
  }
  const listening = Promise.withResolvers<void>();
  let server: Deno.HttpServer<Deno.UnixAddr>;
  try {
    server = Deno.serve({
      path,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onListen: () => listening.resolve(),
      onError: (error: unknown): Response => {
        logger.log("error", "HTTP handler failed", { path, error });
        return new Response("Internal Server Error", { status: 500 });
      },
    }, handler);
  } catch (err) {
    throw hostError(err, what);
  }
  await listening.promise;
  const mode = options.mode ?? 0o600;
  try {
    await Deno.chmod(path, mode);
    // Checked, not assumed: a socket anyone could connect to is refused.
    const st = await Deno.lstat(path);
    if (
      st.isSocket !== true || (st.mode !== null && (st.mode & 0o777) !== mode)
    ) {
      throw new KernelError(
        "HOST_IO",
        `The socket '${path}' did not get mode ${mode.toString(8)}`,
      );
    }
  } catch (err) {
    await server.shutdown();
    throw KernelError.is(err)
      ? err
      : hostError(err, `restrict the socket '${path}'`);
  }
  return {
    path,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}

async function guardedFetch(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<Response> {
  const url = input instanceof Request ? input.url : String(input);
  const signal = init?.signal ??
    (input instanceof Request ? input.signal : undefined);
  try {
    return await fetch(input, init);
  } catch (err) {
    if (signal?.aborted) {
      throw new KernelError("ABORTED", `Cancelled fetching '${url}'`, {
        cause: signal.reason,
      });
    }
    throw hostError(err, `fetch '${url}'`);
  }
}
