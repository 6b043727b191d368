/**
 * The kernel's connection to NATS: one place that turns the `[cluster]
 * nats_url` setting and the token into a client connection that reconnects
 * by itself, and failures into `CLUSTER_UNAVAILABLE`.
 *
 * Security model: the URL never carries credentials (the config schema
 * refuses a user, password or token in it). They come from the daemon's
 * environment (`ASTRID_NATS_TOKEN`) or files of `ASTRID_HOME/keys/` (the
 * daemon's only): `nats.token`, or `nats.nkey` — the node's NKey seed, so
 * that the server can give each node its own user and let it publish only
 * its own events (`astrid.ev.<node>.>`; docs/cluster.md). They are read by
 * the caller through the FileSystem port ({@linkcode readNatsAuth}). Error
 * messages name the server's host and port only, never a credential.
 *
 * @module
 */
import {
  connect,
  type NatsConnection,
  nkeyAuthenticator,
} from "@nats-io/transport-node";
import { KernelError } from "../../core/errors.ts";
import { guardNatsSockets } from "./_socket_guard.ts";
import type { Env, FileSystem } from "../../core/ports.ts";

/** The environment variable that holds the NATS token. */
export const NATS_TOKEN_ENV = "ASTRID_NATS_TOKEN";

/** The token file under `ASTRID_HOME` (the keys directory is the daemon's only). */
export const NATS_TOKEN_FILE = "keys/nats.token";

/** The node's NKey seed file under `ASTRID_HOME` (`SU…`, from `nsc` or `nk -gen user`). */
export const NATS_NKEY_FILE = "keys/nats.nkey";

/** How this node proves itself to NATS. */
export type NatsAuth =
  | { readonly token: string }
  | { readonly nkeySeed: string };

/** Options of {@linkcode connectNats}. */
export interface ConnectNatsOptions {
  /** Comma-separated `nats://host:port` URLs (checked by the config schema). */
  readonly url: string;
  /** The token, when the server requires one (same as `auth: {token}`). */
  readonly token?: string;
  /** The credentials, when the server requires them. */
  readonly auth?: NatsAuth;
  /** The client name the server's monitoring shows (e.g. `astrid-<node>`). */
  readonly name?: string;
  /** How long the first connection may take (default 5,000 ms). */
  readonly timeoutMs?: number;
  /** Wait between reconnect attempts (default 500 ms). */
  readonly reconnectWaitMs?: number;
}

/**
 * The servers of a `nats_url` value, for messages (host and port only).
 *
 * @param url The setting.
 * @returns `host:port` of each server, comma-separated.
 */
export function natsServersLabel(url: string): string {
  return url.split(",").map((u) => {
    try {
      return new URL(u.trim()).host;
    } catch {
      return "(invalid URL)";
    }
  }).join(",");
}

/**
 * Connects to NATS. The connection reconnects by itself without limit
 * (every `reconnectWaitMs`, with jitter) until it is closed; publishes made
 * while it reconnects wait in the client, and the JetStream calls of the
 * bridge time out and are retried by it.
 *
 * @param options URL, token and timing.
 * @returns The open connection; the caller closes (drains) it.
 * @throws {KernelError} `CLUSTER_UNAVAILABLE` when no server answers in
 * time or the server refuses the credentials.
 */
export async function connectNats(
  options: ConnectNatsOptions,
): Promise<NatsConnection> {
  guardNatsSockets();
  const servers = options.url.split(",").map((s) => s.trim());
  const auth = options.auth ??
    (options.token === undefined ? undefined : { token: options.token });
  try {
    return await connect({
      servers,
      ...(auth === undefined ? {} : "token" in auth ? { token: auth.token } : {
        authenticator: nkeyAuthenticator(
          new TextEncoder().encode(auth.nkeySeed),
        ),
      }),
      ...(options.name === undefined ? {} : { name: options.name }),
      timeout: options.timeoutMs ?? 5_000,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 500,
      reconnectJitter: 100,
      pingInterval: 10_000,
      maxPingOut: 3,
      noAsyncTraces: true,
    });
  } catch (err) {
    throw clusterUnavailable(
      `Cannot connect to NATS at ${natsServersLabel(options.url)}`,
      err,
    );
  }
}

/**
 * A `CLUSTER_UNAVAILABLE` error whose message adds the client's reason
 * (one line, no stack, no credentials: the client never echoes the token).
 *
 * @param what What failed.
 * @param cause The client's error.
 * @returns The error.
 */
export function clusterUnavailable(what: string, cause: unknown): KernelError {
  const reason = cause instanceof Error
    ? cause.message.split("\n")[0]!.slice(0, 200)
    : String(cause).slice(0, 200);
  return new KernelError("CLUSTER_UNAVAILABLE", `${what}: ${reason}`, {
    cause,
  });
}

/** What {@linkcode readNatsToken} reads. */
export interface ReadNatsTokenOptions {
  /** The daemon's environment. */
  readonly env: Env;
  /** The file system. */
  readonly fs: FileSystem;
  /** The token file (`ASTRID_HOME/keys/nats.token`). */
  readonly tokenFile: string;
}

/**
 * The NATS token: `ASTRID_NATS_TOKEN`, else the token file, else none.
 *
 * @param options Environment, file system and the file's path.
 * @returns The token, or `undefined` when neither is set.
 * @throws {KernelError} `HOST_IO` when the file exists but cannot be read.
 */
export async function readNatsToken(
  options: ReadNatsTokenOptions,
): Promise<string | undefined> {
  const fromEnv = options.env.get(NATS_TOKEN_ENV);
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    const text = (await options.fs.readTextFile(options.tokenFile)).trim();
    return text === "" ? undefined : text;
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return undefined;
    throw err;
  }
}

/** What {@linkcode readNatsAuth} reads. */
export interface ReadNatsAuthOptions {
  /** The daemon's environment. */
  readonly env: Env;
  /** The file system. */
  readonly fs: FileSystem;
  /** `ASTRID_HOME`. */
  readonly home: string;
}

/**
 * The node's NATS credentials: a token (`ASTRID_NATS_TOKEN`, else
 * `keys/nats.token`), else an NKey seed (`keys/nats.nkey`), else none.
 *
 * @param options Environment, file system and `ASTRID_HOME`.
 * @returns The credentials, or `undefined`.
 * @throws {KernelError} `HOST_IO` when a file exists but cannot be read;
 * `CONFIG_INVALID` when `nats.nkey` is not a user seed.
 */
export async function readNatsAuth(
  options: ReadNatsAuthOptions,
): Promise<NatsAuth | undefined> {
  const token = await readNatsToken({
    env: options.env,
    fs: options.fs,
    tokenFile: `${options.home}/${NATS_TOKEN_FILE}`,
  });
  if (token !== undefined) return { token };
  let seed: string;
  try {
    seed = (await options.fs.readTextFile(`${options.home}/${NATS_NKEY_FILE}`))
      .trim();
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return undefined;
    throw err;
  }
  if (!/^SU[A-Z2-7]{56}$/.test(seed)) {
    throw new KernelError(
      "CONFIG_INVALID",
      `${NATS_NKEY_FILE} must hold one NKey user seed (SU…, 58 characters)`,
    );
  }
  return { nkeySeed: seed };
}
