/**
 * A guard for the NATS client's sockets. `@nats-io/transport-node` removes
 * every listener of its socket between steps of the handshake (after the dial,
 * after reading the server's INFO) and adds its own again a moment later; a
 * connection reset in that window — e.g. the server refusing a wrong token and
 * closing at once — is an `error` event with no listener, which Node's event
 * emitter throws as an uncaught exception: it would end the whole kernel
 * process. The guard keeps one no-op `error` listener on every socket the
 * client dials (also after `removeAllListeners`), so such an error is only
 * what follows it anyway: a `close`, which the client handles (a refused
 * connect, or a reconnect).
 *
 * It wraps `node:net`'s `createConnection`, which the client calls for every
 * dial and reconnect; installed once per process by the first
 * `connectNats()`. Sockets of other code are untouched unless they are made
 * by `createConnection` too, where it changes nothing but the crash.
 *
 * @module
 */
import net from "node:net";

const GUARDED = Symbol.for("astrid.natsSocketGuard");
const ignore = () => {};

/**
 * Installs the guard (idempotent).
 *
 * @example Install before connecting
 * ```ts
 * import { guardNatsSockets } from "./_socket_guard.ts";
 * guardNatsSockets();
 * ```
 */
export function guardNatsSockets(): void {
  const target = net as unknown as Record<string | symbol, unknown>;
  if (target[GUARDED]) return;
  const dial = net.createConnection;
  const guarded = function (
    this: unknown,
    ...args: Parameters<typeof net.createConnection>
  ): net.Socket {
    const socket = dial.apply(net, args);
    const removeAll = socket.removeAllListeners.bind(socket);
    socket.removeAllListeners = ((event?: string | symbol) => {
      // Node tells "remove all" from "remove the listeners of `undefined`"
      // by the number of arguments.
      if (event === undefined) removeAll();
      else removeAll(event);
      if (event === undefined || event === "error") socket.on("error", ignore);
      return socket;
    }) as typeof socket.removeAllListeners;
    socket.on("error", ignore);
    return socket;
  } as typeof net.createConnection;
  target["createConnection"] = guarded;
  target[GUARDED] = true;
}
