/**
 * The {@linkcode Logger} port writing one line per record to standard error.
 *
 * @module
 */
import type { Clock, LogFields, Logger, LogLevel } from "../core/ports.ts";
import { LOG_LEVEL_ORDER } from "../core/ports.ts";
import { KernelError } from "../core/errors.ts";
import { hostError } from "./_host_error.ts";
import { formatJson, formatPretty, type LogRecord } from "./_log_format.ts";
import { systemClock } from "./system_clock.ts";

/** Where log lines go; `Deno.stderr` has this shape. */
export interface LogWriter {
  /** Writes some of `p`, returning how many bytes were written. */
  writeSync(p: Uint8Array): number;
}

/** Options of {@linkcode createStderrLogger}. */
export interface StderrLoggerOptions {
  /** Records below this level are dropped. Default `"info"`. */
  level?: LogLevel;
  /** `"json"`: one JSON object per line; `"pretty"` (default): `TIME LEVEL message k=v`. */
  format?: "json" | "pretty";
  /** Time source for the timestamps. Default: the system clock. */
  clock?: Clock;
  /** Destination. Default: `Deno.stderr`. */
  writer?: LogWriter;
}

/**
 * Creates a logger that writes each record as exactly one line to stderr.
 *
 * Fields of `child()` loggers merge with the parent's (the child wins), and a
 * record's own fields win over both. In JSON the keys `time`, `level` and `msg`
 * always come from the record, never from a field. Control characters in
 * pretty output are escaped, so a message cannot forge another line.
 *
 * @param options Level, format and, for tests, the clock and writer.
 * @returns A {@linkcode Logger}.
 * @throws {RangeError} When `options.level` or `options.format` is not a known value.
 * @throws {KernelError} From `log()`: `HOST_IO` when stderr cannot be written.
 *
 * @example Log JSON lines to stderr
 * ```ts
 * import { createStderrLogger } from "./stderr_logger.ts";
 * const log = createStderrLogger({ level: "warn", format: "json" }).child({ component: "doc" });
 * log.log("debug", "dropped: below warn");
 * ```
 */
export function createStderrLogger(options: StderrLoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!Object.hasOwn(LOG_LEVEL_ORDER, level)) {
    throw new RangeError(`Unknown log level '${level}'`);
  }
  const format = options.format ?? "pretty";
  if (format !== "json" && format !== "pretty") {
    throw new RangeError(`Unknown log format '${format}'`);
  }
  return new StderrLogger({
    min: LOG_LEVEL_ORDER[level],
    render: format === "json" ? formatJson : formatPretty,
    clock: options.clock ?? systemClock(),
    writer: options.writer ?? Deno.stderr,
    encoder: new TextEncoder(),
  }, {});
}

interface Sink {
  min: number;
  render: (record: LogRecord) => string;
  clock: Clock;
  writer: LogWriter;
  encoder: TextEncoder;
}

class StderrLogger implements Logger {
  readonly #sink: Sink;
  readonly #fields: LogFields;

  constructor(sink: Sink, fields: LogFields) {
    this.#sink = sink;
    this.#fields = fields;
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    const sink = this.#sink;
    if ((LOG_LEVEL_ORDER[level] ?? Infinity) < sink.min) return;
    const line = sink.render({
      time: sink.clock.now(),
      level,
      message,
      fields: { ...this.#fields, ...fields },
    });
    writeAll(sink.writer, sink.encoder.encode(`${line}\n`));
  }

  child(fields: LogFields): Logger {
    return new StderrLogger(this.#sink, { ...this.#fields, ...fields });
  }
}

function writeAll(writer: LogWriter, bytes: Uint8Array): void {
  let off = 0;
  try {
    while (off < bytes.length) {
      const n = writer.writeSync(bytes.subarray(off));
      if (n <= 0) {
        throw new KernelError(
          "HOST_IO",
          "Cannot write a log line as the writer accepted no bytes",
        );
      }
      off += n;
    }
  } catch (err) {
    throw hostError(err, "write a log line");
  }
}
