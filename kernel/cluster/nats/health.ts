/**
 * How a NATS server looks from this node: reachable or not, round-trip
 * time, whether JetStream answers and whether the events stream exists.
 * For `astrid cluster status`; it connects, asks, and closes — never
 * creates anything and never throws.
 *
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { toWireError, type WireError } from "../../core/errors.ts";
import { connectNats, type NatsAuth, natsServersLabel } from "./connection.ts";
import { EVENTS_STREAM } from "./subjects.ts";

/** The answer of {@linkcode natsHealth}. */
export interface NatsHealth {
  /** `host:port` of the configured servers (no credentials). */
  readonly servers: string;
  /** Whether a server answered. */
  readonly reachable: boolean;
  /** The server it talked to (`host:port`), when reachable. */
  readonly server?: string;
  /** The server's version, when reachable. */
  readonly version?: string;
  /** Round-trip time of one ping, in ms. */
  readonly rtt_ms?: number;
  /** Whether JetStream answered its account info. */
  readonly jetstream: boolean;
  /** Messages in the events stream, or `null` when the stream does not exist yet. */
  readonly events_stream_messages?: number | null;
  /** Durable consumers (one per node that joined) of the events stream. */
  readonly events_consumers?: number;
  /** Why it is not healthy (coded, no credentials). */
  readonly error?: WireError;
}

/** Options of {@linkcode natsHealth}. */
export interface NatsHealthOptions {
  /** The token, when the server requires one. */
  readonly token?: string;
  /** The credentials (wins over `token`), e.g. from `readNatsAuth()`. */
  readonly auth?: NatsAuth;
  /** How long to wait for the server (default 2,000 ms). */
  readonly timeoutMs?: number;
}

/**
 * Asks a NATS server how it is.
 *
 * @param url The `[cluster] nats_url` value.
 * @param options Token and timeout.
 * @returns Its health; `reachable: false` with a coded error when no
 * server answered.
 *
 * @example Status of an unreachable server
 * ```ts ignore
 * import { natsHealth } from "./health.ts";
 * const h = await natsHealth("nats://127.0.0.1:1");
 * console.assert(!h.reachable && h.error?.code === "CLUSTER_UNAVAILABLE");
 * ```
 */
export async function natsHealth(
  url: string,
  options: NatsHealthOptions = {},
): Promise<NatsHealth> {
  const servers = natsServersLabel(url);
  let nc;
  try {
    nc = await connectNats({
      url,
      timeoutMs: options.timeoutMs ?? 2_000,
      name: "astrid-health",
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.auth === undefined ? {} : { auth: options.auth }),
    });
  } catch (err) {
    return {
      servers,
      reachable: false,
      jetstream: false,
      error: toWireError(err),
    };
  }
  try {
    const rtt = await nc.rtt();
    const base = {
      servers,
      reachable: true,
      server: nc.getServer(),
      version: nc.info?.version ?? "unknown",
      rtt_ms: Math.round(rtt * 100) / 100,
    };
    let jsm;
    try {
      jsm = await jetstreamManager(nc, { timeout: options.timeoutMs ?? 2_000 });
      await jsm.getAccountInfo();
    } catch (err) {
      return {
        ...base,
        jetstream: false,
        error: {
          code: "CLUSTER_UNAVAILABLE",
          message: `JetStream does not answer on ${servers}: ${
            err instanceof Error ? err.message.split("\n")[0] : String(err)
          }`,
        },
      };
    }
    try {
      const info = await jsm.streams.info(EVENTS_STREAM);
      return {
        ...base,
        jetstream: true,
        events_stream_messages: info.state.messages,
        events_consumers: info.state.consumer_count,
      };
    } catch {
      return { ...base, jetstream: true, events_stream_messages: null };
    }
  } finally {
    await nc.close().catch(() => {});
  }
}
