/**
 * A private, throw-away `nats-server` for tests: JetStream on, listening on
 * a random loopback port, its store in a temp directory, optionally with a
 * token; killed and deleted at the end. One per test FILE, shared by its
 * tests (it starts in milliseconds, but each file gets a clean one).
 *
 * When nats-server is not installed, {@linkcode natsTest} registers the test
 * as ignored with a message — unless `CI=true`, where it fails: CI must run
 * them (`.ci/setup` installs Debian's `nats-server`).
 *
 * @module
 */
import { Bus } from "../kernel/bus/bus.ts";
import { connectNats } from "../kernel/cluster/nats/connection.ts";
import { EventBridge } from "../kernel/cluster/nats/event_bridge.ts";
import type { KeyPair } from "../kernel/crypto/key_pair.ts";
import { cryptoRandom, systemClock } from "../kernel/host/mod.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { needsTest } from "./needs_fixture_test.ts";
import { freePort } from "./daemon_fixture_test.ts";

/** Where Debian installs nats-server (override with `ASTRID_NATS_SERVER`). */
export const NATS_SERVER = Deno.env.get("ASTRID_NATS_SERVER") ??
  "/usr/sbin/nats-server";

/** One running server. */
export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` (no credentials). */
  readonly url: string;
  /** The token clients must present, when started with one. */
  readonly token: string | undefined;
  /** Kills the server (SIGKILL: no goodbye to clients); its store stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Kills it and deletes its store. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Why nats-server cannot be used here, or `undefined` when it can.
 *
 * @returns The reason, for the skip message.
 */
export function natsMissing(): string | undefined {
  try {
    Deno.statSync(NATS_SERVER);
    return undefined;
  } catch {
    return `nats-server is not installed (no ${NATS_SERVER}; apt-get install nats-server)`;
  }
}

/**
 * Registers a test that needs nats-server: ignored with a message when it is
 * missing on a developer's machine, failing when it is missing under `CI=true`.
 *
 * @param name The test name.
 * @param fn The test.
 */
export function natsTest(
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  needsTest("NATS tests", natsMissing(), name, fn);
}

async function waitListening(port: number, child: Deno.ChildProcess) {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error("nats-server exited at start");
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`nats-server did not listen on ${port} within 10 s`);
}

/**
 * Starts a private nats-server with JetStream.
 *
 * @param options `token`: require this token from clients; `config`: more
 *   server configuration (e.g. an `authorization` block with NKey users).
 * @returns The running server; `await using` destroys it.
 */
export async function startNats(
  options: { token?: string; config?: string } = {},
): Promise<NatsServer> {
  const dir = await Deno.makeTempDir({ prefix: "astrid-nats-" });
  const port = freePort();
  if (options.config !== undefined) {
    await Deno.writeTextFile(`${dir}/server.conf`, options.config);
  }
  const args = [
    ...(options.config !== undefined ? ["-c", `${dir}/server.conf`] : []),
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-js",
    "-sd",
    dir,
    "-l",
    `${dir}/log`,
    ...(options.token ? ["--auth", options.token] : []),
  ];
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command(NATS_SERVER, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitListening(port, child);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (c === undefined) return;
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
    await c.status;
  };
  await start();
  let gone = false;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    token: options.token,
    stop,
    async start() {
      if (child === undefined) await start();
    },
    async destroy() {
      if (gone) return;
      gone = true;
      try {
        await stop();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
    [Symbol.asyncDispose]() {
      return server.destroy();
    },
  };
  return server;
}

/** A node's kernel bus bridged to the cluster (the hub's `cluster` option). */
export interface BridgedNode extends AsyncDisposable {
  /** The node's kernel bus. */
  readonly bus: Bus;
}

/**
 * Joins a node's own kernel bus to the cluster's events through a real
 * connection and bridge (what `startClusterEvents` builds for a server).
 *
 * @param url The nats-server's URL.
 * @param nodeId The node's id.
 * @param key The cluster's key (shared by the nodes).
 * @returns The node's bus; disposing closes bridge, connection and bus.
 */
export async function joinBridgedNode(
  url: string,
  nodeId: string,
  key: KeyPair,
): Promise<BridgedNode> {
  const logger = new MemoryLogger();
  const bus = new Bus({ clock: systemClock(), random: cryptoRandom(), logger });
  const nc = await connectNats({ url, name: nodeId });
  const bridge = await EventBridge.start({
    bus,
    nc,
    nodeId,
    key,
    logger,
    clock: systemClock(),
  });
  return {
    bus,
    async [Symbol.asyncDispose]() {
      await bridge.close();
      await nc.drain();
      bus.close();
    },
  };
}
