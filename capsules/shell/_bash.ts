/**
 * The `bash` tool: one command line through `process_spawn`, its result as
 * one text for the model.
 *
 * @module
 */
import {
  host,
  HostCallError,
  type HostResult,
  type ToolSpec,
} from "@astrid/sdk";

/** Timeout of a command when the model names none, in ms. */
export const DEFAULT_TIMEOUT_MS = 120_000;
/** The longest timeout a command may ask for, in ms (the kernel's cap). */
export const MAX_TIMEOUT_MS = 600_000;
/** Characters of stdout plus stderr the model sees. */
export const MAX_OUTPUT_CHARS = 30_000;
/** Characters of a command line. */
export const MAX_COMMAND_CHARS = 100_000;

/** Cuts `text` to `max` characters, keeping its head and tail. */
export function cutMiddle(text: string, max: number, what: string): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.4);
  const tail = max - head;
  return `${text.slice(0, head)}\n… [${
    text.length - max
  } characters of ${what} cut here: the output was too long; redirect it to a file and use read_file or grep on it] …\n${
    text.slice(text.length - tail)
  }`;
}

/** Shares {@linkcode MAX_OUTPUT_CHARS} between the two streams. */
function shares(out: number, err: number): [number, number] {
  const budget = MAX_OUTPUT_CHARS;
  const errShare = Math.min(err, Math.max(budget / 2, budget - out));
  return [budget - errShare, errShare];
}

type Spawned = HostResult<"process_spawn">;

function render(r: Spawned): string {
  const [outMax, errMax] = shares(r.stdout.length, r.stderr.length);
  const parts = [`exit code: ${r.exit_code}`];
  parts.push(
    r.stdout === ""
      ? "stdout: (empty)"
      : `stdout:\n${cutMiddle(r.stdout, outMax, "stdout").replace(/\n$/, "")}`,
  );
  parts.push(
    r.stderr === ""
      ? "stderr: (empty)"
      : `stderr:\n${cutMiddle(r.stderr, errMax, "stderr").replace(/\n$/, "")}`,
  );
  const o = r.overlay;
  if (o && o.refused.length > 0) {
    parts.push(
      `not kept (refused by the security gate): ${
        o.refused.map((x) => `${x.path} (${x.code}: ${x.message})`).join("; ")
      }`,
    );
  }
  if (o && o.skipped.length > 0) {
    parts.push(
      `not kept (skipped): ${
        o.skipped.map((x) => `${x.path} (${x.why})`).join("; ")
      }`,
    );
  }
  if (r.sandbox === "none") {
    parts.push("note: ran without a sandbox, directly in the workspace");
  }
  return parts.join("\n");
}

function refusal(err: HostCallError, timeoutMs: number, ms: number): Error {
  const why = `${err.code}: ${err.message}`;
  switch (err.code) {
    case "SANDBOX_UNAVAILABLE":
      return new Error(
        `bash: cannot run commands: no sandbox (bubblewrap) is available on this machine and the configuration does not allow unsandboxed commands (${why}). ` +
          "Do not retry; tell the user, and use the file tools (read_file, list_directory, glob, grep, write_file, edit_file) instead.",
      );
    case "POLICY_BLOCKED":
      return new Error(
        `bash: the command was refused by the security policy (${why}). Do not retry it or a variant of it; if it is needed, ask the user to run it.`,
      );
    case "MANIFEST_DENIED":
      return new Error(`bash: the command was refused (${why}).`);
    case "APPROVAL_DENIED":
      return new Error(
        `bash: the user denied running this command (${why}). Do not retry it.`,
      );
    case "ABORTED":
      if (ms >= timeoutMs - 50) {
        return new Error(
          `bash: the command timed out after ${timeoutMs} ms and was killed; its output is lost. ` +
            `Raise timeout_ms (at most ${MAX_TIMEOUT_MS}) or split the work into shorter commands.`,
        );
      }
      return new Error(`bash: the command was cancelled (${why}).`);
    default:
      return new Error(`bash: the command could not run (${why}).`);
  }
}

/** The `bash` tool. */
export const bash: ToolSpec<Readonly<Record<string, unknown>>> = {
  description:
    "Run a bash command line in the workspace (bash -c) and get its exit code, stdout and stderr. " +
    "It runs in a sandbox over this session's copy of the workspace (the working directory): changes to workspace files are kept in the session, not yet in the user's files; " +
    "the rest of the file system is read-only and blocked commands such as sudo are refused. " +
    `Output over ${MAX_OUTPUT_CHARS} characters is cut in the middle. ` +
    `Times out after timeout_ms (default ${DEFAULT_TIMEOUT_MS}, at most ${MAX_TIMEOUT_MS}). ` +
    "Prefer the file tools to read, search and edit files.",
  input_schema: {
    type: "object",
    properties: {
      command: {
        type: "string",
        description: "The command line, e.g. 'ls -la && deno test'",
      },
      timeout_ms: {
        type: "integer",
        minimum: 1,
        maximum: MAX_TIMEOUT_MS,
        description:
          `Kill the command after this many ms (default ${DEFAULT_TIMEOUT_MS})`,
      },
    },
    required: ["command"],
    additionalProperties: false,
  },
  async execute(args) {
    const command = args.command;
    if (typeof command !== "string" || command.trim() === "") {
      throw new Error(
        "bash: argument 'command' is required and must be a non-empty string",
      );
    }
    if (command.length > MAX_COMMAND_CHARS) {
      throw new Error(
        `bash: the command is ${command.length} characters long, more than ${MAX_COMMAND_CHARS}; write a script with write_file and run it`,
      );
    }
    const t = args.timeout_ms;
    if (
      t !== undefined && t !== null &&
      (typeof t !== "number" || !Number.isInteger(t) || t < 1 ||
        t > MAX_TIMEOUT_MS)
    ) {
      throw new Error(
        `bash: argument 'timeout_ms' must be an integer from 1 to ${MAX_TIMEOUT_MS} (got ${
          JSON.stringify(t)
        })`,
      );
    }
    const timeoutMs = typeof t === "number" ? t : DEFAULT_TIMEOUT_MS;
    const started = await host.clock.now();
    try {
      return render(
        await host.process.spawn({
          cmd: "bash",
          args: ["-c", command],
          timeout_ms: timeoutMs,
        }),
      );
    } catch (err) {
      if (!(err instanceof HostCallError)) throw err;
      throw refusal(err, timeoutMs, (await host.clock.now()) - started);
    }
  },
};
