/**
 * The {@linkcode Spawner} port on top of `Deno.Command`.
 *
 * @module
 */
import { throwIfAborted } from "../core/abort.ts";
import { KernelError } from "../core/errors.ts";
import type {
  ChildProcess,
  OutputOptions,
  ProcessOutput,
  ProcessSignal,
  ProcessStatus,
  Spawner,
  SpawnOptions,
} from "../core/ports.ts";
import { hostError } from "./_host_error.ts";

/**
 * Creates the real process spawner.
 *
 * Security model: the child never inherits the parent's environment
 * (`clearEnv: true` on every spawn); it sees exactly `options.env`, so secrets
 * in the daemon's environment cannot leak into a child by accident. Note that
 * the command name is still looked up on the parent's `PATH`, and a spawned
 * binary runs outside the Deno sandbox with the daemon's OS rights.
 *
 * @returns A {@linkcode Spawner}.
 * @throws {KernelError} From `spawn()`/`output()`: `NOT_FOUND` for an unknown
 * command, `HOST_PERMISSION_DENIED` when `--allow-run` does not cover it,
 * `HOST_IO` for other failures, `ABORTED` when the signal has fired.
 * @throws {TypeError} For a malformed command, argument or environment.
 *
 * @example Run a command with an explicit environment
 * ```ts
 * import { createDenoSpawner } from "./deno_spawner.ts";
 * const out = await createDenoSpawner().output("env", { env: { GREETING: "hi" } });
 * console.assert(new TextDecoder().decode(out.stdout) === "GREETING=hi\n");
 * ```
 */
export function createDenoSpawner(): Spawner {
  return { spawn, output };
}

function spawn(command: string, options: SpawnOptions = {}): ChildProcess {
  if (typeof command !== "string" || command.length === 0) {
    throw new TypeError("Cannot spawn a process without a command name");
  }
  throwIfAborted(options.signal, `starting '${command}'`);
  const stdin = options.stdin ?? "null";
  const stdout = options.stdout ?? "piped";
  const stderr = options.stderr ?? "piped";
  const cmd: Deno.CommandOptions = {
    args: [...(options.args ?? [])],
    clearEnv: true,
    env: { ...(options.env ?? {}) },
    stdin,
    stdout,
    stderr,
  };
  if (options.cwd !== undefined) cmd.cwd = options.cwd;
  if (options.signal !== undefined) cmd.signal = options.signal;
  let child: Deno.ChildProcess;
  try {
    // Throws synchronously when --allow-run is missing.
    child = new Deno.Command(command, cmd).spawn();
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw hostError(err, `start '${command}'`);
  }
  return new DenoChild(child, {
    stdin: stdin === "piped",
    stdout: stdout === "piped",
    stderr: stderr === "piped",
  });
}

async function output(
  command: string,
  options: OutputOptions = {},
): Promise<ProcessOutput> {
  const { input, ...rest } = options;
  const child = spawn(command, {
    ...rest,
    stdin: input === undefined ? "null" : "piped",
  });
  const results = await Promise.allSettled([
    input === undefined ? Promise.resolve() : writeInput(child.stdin!, input),
    collect(child.stdout!),
    collect(child.stderr!),
    child.status,
  ]);
  if (options.signal?.aborted) {
    throw new KernelError("ABORTED", `Cancelled running '${command}'`, {
      cause: options.signal.reason,
    });
  }
  const [written, out, err, status] = results;
  if (written.status === "rejected") {
    throw hostError(written.reason, `write the input of '${command}'`);
  }
  for (const r of [out, err]) {
    if (r.status === "rejected") {
      throw hostError(r.reason, `read the output of '${command}'`);
    }
  }
  if (status.status === "rejected") {
    throw hostError(status.reason, `wait for '${command}'`);
  }
  return {
    ...status.value,
    stdout: (out as PromiseFulfilledResult<Uint8Array>).value,
    stderr: (err as PromiseFulfilledResult<Uint8Array>).value,
  };
}

class DenoChild implements ChildProcess {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array> | null;
  readonly stdout: ReadableStream<Uint8Array> | null;
  readonly stderr: ReadableStream<Uint8Array> | null;
  readonly status: Promise<ProcessStatus>;
  readonly #child: Deno.ChildProcess;
  #exited = false;

  constructor(
    child: Deno.ChildProcess,
    piped: { stdin: boolean; stdout: boolean; stderr: boolean },
  ) {
    this.#child = child;
    this.pid = child.pid;
    this.stdin = piped.stdin ? child.stdin : null;
    this.stdout = piped.stdout ? child.stdout : null;
    this.stderr = piped.stderr ? child.stderr : null;
    this.status = child.status.then((s) => {
      this.#exited = true;
      return { code: s.code, signal: s.signal, success: s.success };
    });
  }

  kill(signal: ProcessSignal = "SIGTERM"): void {
    // silent-ok: a child that has already exited has nothing left to signal.
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch (err) {
      throw hostError(err, `send ${signal} to process ${this.pid}`);
    }
  }
}

async function writeInput(
  stdin: WritableStream<Uint8Array>,
  input: Uint8Array | string,
): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(
      typeof input === "string" ? new TextEncoder().encode(input) : input,
    );
    await writer.close();
  } catch (err) {
    // silent-ok: BrokenPipe only means the child exited without reading all its input.
    if (err instanceof Deno.errors.BrokenPipe) return;
    throw err;
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
