/**
 * The lifecycle of one MCP server subprocess: start, connect, watch, restart
 * with exponential backoff, stop without leaving orphans.
 *
 * Security model: the supervisor only runs what its `launch` function
 * prepared (a confined command line, a fresh permission broker per start);
 * stopping closes stdin, then sends SIGTERM, then SIGKILL, and always runs
 * the launch's cleanup (which closes the broker — in broker mode that alone
 * ends the child). stderr goes to the capsule log line by line, bounded, so
 * a chatty server cannot exhaust memory.
 *
 * @module
 */
import { linkSignals } from "../../../core/linked_signal.ts";
import { KernelError } from "../../../core/errors.ts";
import type { ChildProcess, Clock, Logger } from "../../../core/ports.ts";
import type { CapsuleHealth } from "../../engine.ts";
import type {
  McpClientSession,
  McpHttpEndpoint,
  McpStdio,
} from "./client/mod.ts";

/**
 * A started server and how to release what its start acquired: a
 * subprocess (`child`), or a remote server (`endpoint`) that has no process
 * and whose connection counts as lost when `lost` resolves (a network
 * failure, an expired session) — the same restart policy then reconnects.
 */
export type LaunchedServer =
  | {
    /** The child, with piped stdin, stdout and stderr. */
    readonly child: ChildProcess;
    readonly endpoint?: undefined;
    readonly lost?: undefined;
    /** Releases per-start resources (the broker socket). Idempotent. */
    cleanup(): Promise<void>;
  }
  | {
    readonly child?: undefined;
    /** The remote server's Streamable HTTP endpoint. */
    readonly endpoint: McpHttpEndpoint;
    /** Resolves when the connection is lost. */
    readonly lost: Promise<void>;
    /** Releases per-start resources. Idempotent. */
    cleanup(): Promise<void>;
  };

/** Restart policy. */
export interface RestartPolicy {
  /** First delay in ms (default 250). */
  readonly initialDelayMs: number;
  /** Upper bound of the delay in ms (default 30 000). */
  readonly maxDelayMs: number;
  /** Consecutive failed starts or crashes before giving up (default 5). */
  readonly maxRestarts: number;
  /** Uptime in ms after which the failure count resets (default 60 000). */
  readonly stableAfterMs: number;
}

/** The default {@linkcode RestartPolicy}. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  maxRestarts: 5,
  stableAfterMs: 60_000,
});

/** Dependencies of {@linkcode McpServerProcess}. */
export interface ServerProcessDeps {
  readonly clock: Clock;
  /** The capsule/server logger (stderr lines land here). */
  readonly logger: Logger;
  /** Prepares and spawns the child (pre-launch checks, broker, argv), or prepares a remote endpoint. */
  launch(signal: AbortSignal): Promise<LaunchedServer>;
  /** Speaks MCP over the child's stdio or to the endpoint. */
  connect(
    io: McpStdio | McpHttpEndpoint,
    signal: AbortSignal,
  ): Promise<McpClientSession>;
  /** Called after each successful (re)connect. */
  onReady?(session: McpClientSession): void | Promise<void>;
}

/** Options of {@linkcode McpServerProcess}. */
export interface ServerProcessOptions {
  /** The server id (for messages). */
  readonly name: string;
  /** Restart policy (defaults: {@linkcode DEFAULT_RESTART_POLICY}). */
  readonly restart?: Partial<RestartPolicy>;
  /** How long `stop()` waits after closing stdin and after SIGTERM (default 2 000 ms each). */
  readonly stopGraceMs?: number;
  /** Deadline of spawn + initialize (default 30 000 ms). */
  readonly startTimeoutMs?: number;
}

const MAX_STDERR_LINE = 4096;

interface Running {
  readonly launched: LaunchedServer;
  readonly session: McpClientSession;
  readonly startedAt: number;
  readonly stderr: Promise<void>;
  /** Stops the run's signal following the server's stop signal. */
  readonly unlink: () => void;
}

/**
 * Supervises one MCP server subprocess.
 *
 * @example Lifecycle
 * ```ts ignore
 * const server = new McpServerProcess(deps, { name: "memory" });
 * await server.start();            // spawn + initialize, throws when it cannot
 * const tools = await server.session().listTools();
 * await server.stop();             // stdin EOF, SIGTERM, SIGKILL; broker closed
 * ```
 */
export class McpServerProcess {
  readonly #deps: ServerProcessDeps;
  readonly #name: string;
  readonly #policy: RestartPolicy;
  readonly #grace: number;
  readonly #startTimeout: number;
  readonly #stopping = new AbortController();
  #running: Running | null = null;
  #health: CapsuleHealth = { status: "degraded", reason: "not started" };
  #failures = 0;
  #restarts = 0;
  #restartLoop: Promise<void> | null = null;
  #readyWaiters: (() => void)[] = [];

  /**
   * @param deps Clock, logger, launch and connect functions.
   * @param options Name, restart policy, grace periods.
   */
  constructor(deps: ServerProcessDeps, options: ServerProcessOptions) {
    this.#deps = deps;
    this.#name = options.name;
    this.#policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.#grace = options.stopGraceMs ?? 2_000;
    this.#startTimeout = options.startTimeoutMs ?? 30_000;
  }

  /** How many times the server was restarted after a crash. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The child's pid while it runs, else `null`. */
  get pid(): number | null {
    return this.#running?.launched.child?.pid ?? null;
  }

  /**
   * Starts the server the first time.
   *
   * @throws {KernelError} `CAPSULE_FAILED` when the server cannot be spawned or
   *   initialised, the launch's own codes (`MANIFEST_INVALID`,
   *   `VFS_PATH_ESCAPE`, `HOST_PERMISSION_DENIED`), `CAPSULE_TIMEOUT`.
   */
  async start(): Promise<void> {
    await this.#startOnce();
  }

  /** The current health. */
  health(): CapsuleHealth {
    return this.#health;
  }

  /**
   * The live MCP session, waiting up to `timeoutMs` for a restart in progress.
   *
   * @param options Wait limit (default 10 s) and cancellation.
   * @returns The session.
   * @throws {KernelError} `CAPSULE_FAILED` when the server is down for good or
   *   does not come back in time; `ABORTED`.
   */
  async session(
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<McpClientSession> {
    if (this.#running) return this.#running.session;
    if (this.#health.status === "failed" || this.#stopping.signal.aborted) {
      throw this.#down();
    }
    const wait = new AbortController();
    const ready = new Promise<void>((resolve) =>
      this.#readyWaiters.push(resolve)
    );
    const linked = linkSignals([wait.signal, options.signal]);
    try {
      await Promise.race([
        ready,
        this.#deps.clock.sleep(options.timeoutMs ?? 10_000, {
          signal: linked.signal,
        }),
      ]);
    } finally {
      wait.abort();
      linked.unlink();
    }
    options.signal?.throwIfAborted();
    const now = this.#running as Running | null;
    if (now) return now.session;
    throw this.#down();
  }

  /** Stops the server and any pending restart. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const w of this.#readyWaiters.splice(0)) w();
    const running = this.#running;
    this.#running = null;
    this.#health = { status: "failed", reason: "stopped" };
    if (running) await this.#terminate(running);
    await this.#restartLoop?.catch(() => {}); // silent-ok: a stopped loop's failure no longer matters
  }

  #down(): KernelError {
    return new KernelError(
      "CAPSULE_FAILED",
      `MCP server '${this.#name}' is not running${
        this.#health.status === "ok" ? "" : `: ${this.#health.reason}`
      }`,
    );
  }

  async #startOnce(): Promise<void> {
    const deadline = new AbortController();
    const timerStop = new AbortController();
    const timer = this.#deps.clock.sleep(this.#startTimeout, {
      signal: timerStop.signal,
    }).then(
      () =>
        deadline.abort(
          new KernelError(
            "CAPSULE_TIMEOUT",
            `MCP server '${this.#name}' did not start within ${this.#startTimeout} ms`,
          ),
        ),
      () => {}, // silent-ok: the timer was cancelled because start finished
    );
    // The launched process and its session follow this signal for their
    // whole life: it is unlinked when the run is terminated (a stable
    // server may be restarted any number of times).
    const linked = linkSignals([deadline.signal, this.#stopping.signal]);
    const signal = linked.signal;
    let launched: LaunchedServer | null = null;
    let stderr: Promise<void> = Promise.resolve();
    try {
      launched = await this.#deps.launch(signal);
      const { child } = launched;
      let io: McpStdio | McpHttpEndpoint;
      if (child === undefined) io = launched.endpoint;
      else {
        if (!child.stdin || !child.stdout) {
          throw new TypeError("an MCP server needs piped stdin and stdout");
        }
        stderr = pumpStderr(child.stderr, this.#deps.logger);
        io = { stdin: child.stdin, stdout: child.stdout };
      }
      const session = await this.#deps.connect(io, signal);
      const running: Running = {
        launched,
        session,
        startedAt: this.#deps.clock.now(),
        stderr,
        unlink: linked.unlink,
      };
      this.#running = running;
      this.#health = { status: "ok" };
      const ended = launched.lost
        ? Promise.race([session.closed, launched.lost])
        : session.closed;
      void ended.then(() => this.#onClosed(running));
      await this.#deps.onReady?.(session);
      for (const w of this.#readyWaiters.splice(0)) w();
    } catch (err) {
      if (launched) {
        await this.#terminate({
          launched,
          session: null,
          stderr,
          unlink: linked.unlink,
        });
      }
      linked.unlink();
      if (signal.aborted && signal.reason instanceof KernelError) {
        throw signal.reason;
      }
      if (err instanceof KernelError && err.code !== "CAPSULE_FAILED") {
        throw err;
      }
      throw new KernelError(
        "CAPSULE_FAILED",
        `Cannot start MCP server '${this.#name}': ${messageOf(err)}`,
        { cause: err },
      );
    } finally {
      timerStop.abort();
      await timer;
    }
  }

  #onClosed(running: Running): void {
    if (this.#running !== running || this.#stopping.signal.aborted) return;
    this.#running = null;
    const uptime = this.#deps.clock.now() - running.startedAt;
    if (uptime >= this.#policy.stableAfterMs) this.#failures = 0;
    void this.#terminate(running);
    this.#deps.logger.log(
      "warn",
      isProcess(running)
        ? `MCP server '${this.#name}' exited; restarting`
        : `MCP server '${this.#name}' connection lost; reconnecting`,
      { server: this.#name, uptime_ms: uptime },
    );
    this.#health = { status: "degraded", reason: "restarting after exit" };
    this.#restartLoop = this.#restartWithBackoff();
  }

  async #restartWithBackoff(): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      this.#failures++;
      if (this.#failures > this.#policy.maxRestarts) {
        this.#health = {
          status: "failed",
          reason:
            `gave up after ${this.#policy.maxRestarts} consecutive failures`,
        };
        this.#deps.logger.log(
          "error",
          `MCP server '${this.#name}' ${this.#health.reason}`,
          { server: this.#name },
        );
        for (const w of this.#readyWaiters.splice(0)) w();
        return;
      }
      const delay = Math.min(
        this.#policy.maxDelayMs,
        this.#policy.initialDelayMs * 2 ** (this.#failures - 1),
      );
      try {
        await this.#deps.clock.sleep(delay, { signal: this.#stopping.signal });
        await this.#startOnce();
        this.#restarts++;
        return;
      } catch (err) {
        if (this.#stopping.signal.aborted) return;
        this.#deps.logger.log(
          "warn",
          `MCP server '${this.#name}' failed to restart: ${messageOf(err)}`,
          { server: this.#name, attempt: this.#failures },
        );
      }
    }
  }

  async #terminate(
    r: Pick<Running, "launched" | "stderr" | "unlink"> & {
      session: McpClientSession | null;
    },
  ): Promise<void> {
    try {
      await this.#shutDown(r);
    } finally {
      r.unlink();
    }
  }

  async #shutDown(
    r: Pick<Running, "launched" | "stderr"> & {
      session: McpClientSession | null;
    },
  ): Promise<void> {
    const { child } = r.launched;
    if (child === undefined) {
      try {
        await r.session?.close();
      } catch { /* silent-ok: closing a dead connection fails harmlessly */ }
      await r.launched.cleanup();
      return;
    }
    let exited = false;
    void child.status.then(() => (exited = true));
    try {
      await r.session?.close();
    } catch { /* silent-ok: closing a dead connection fails harmlessly */ }
    const waitExit = async (ms: number): Promise<boolean> => {
      if (exited) return true;
      const stop = new AbortController();
      await Promise.race([
        child.status,
        this.#deps.clock.sleep(ms, { signal: stop.signal }).catch(() => {}),
      ]);
      stop.abort();
      return exited;
    };
    if (!(await waitExit(this.#grace))) {
      child.kill("SIGTERM");
      if (!(await waitExit(this.#grace))) child.kill("SIGKILL");
    }
    await child.status;
    await r.launched.cleanup();
    await r.stderr;
  }
}

async function pumpStderr(
  stream: ReadableStream<Uint8Array> | null,
  logger: Logger,
): Promise<void> {
  if (!stream) return;
  const decoder = new TextDecoder();
  let buf = "";
  const flush = (line: string): void => {
    const text = line.length > MAX_STDERR_LINE
      ? `${line.slice(0, MAX_STDERR_LINE)}…`
      : line;
    if (text.trim() !== "") logger.log("info", text, { stream: "stderr" });
  };
  try {
    for await (const chunk of stream) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        flush(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      if (buf.length > MAX_STDERR_LINE) {
        flush(buf);
        buf = "";
      }
    }
  } catch { /* silent-ok: stderr ends with the child */ }
  flush(buf);
}

function isProcess(running: Running): boolean {
  return running.launched.child !== undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
