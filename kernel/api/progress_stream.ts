/**
 * {@linkcode progressStream}: runs a long operation that reports progress
 * through a callback, as an async iterable of {@linkcode ProgressEvent}s for
 * an SSE response — `progress` lines while it works (host paths redacted),
 * then one `done` (with its result) or one `error` (coded, host paths
 * redacted, no data).
 *
 * @module
 */
import { redactPaths, toWireError } from "../core/errors.ts";
import type { ProgressEvent } from "./contract.ts";

/** The longest message an event carries. */
const MAX_MESSAGE = 500;

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/**
 * Streams an operation's progress.
 *
 * @param run The operation: reports lines with `progress`, stops when
 *   `signal` aborts (the client went away), resolves with its result.
 * @param done The `done` message of a result.
 * @returns The events; ending the iteration early aborts the operation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressStream } from "./progress_stream.ts";
 * const types: string[] = [];
 * for await (const e of progressStream(async (p) => { p("working"); return { n: 1 }; }, () => "ok")) {
 *   types.push(e.type);
 * }
 * assert.deepEqual(types, ["progress", "done"]);
 * ```
 */
export async function* progressStream(
  run: (
    progress: (message: string) => void,
    signal: AbortSignal,
  ) => Promise<Readonly<Record<string, unknown>>>,
  done: (result: Readonly<Record<string, unknown>>) => string,
): AsyncGenerator<ProgressEvent> {
  const abort = new AbortController();
  const queue: ProgressEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let step = 0;
  const push = (e: ProgressEvent): void => {
    queue.push(e);
    wake?.();
  };
  const progress = (message: string): void => {
    if (!finished) {
      push({
        type: "progress",
        message: clip(redactPaths(message)),
        step: ++step,
      });
    }
  };
  // A run that throws synchronously fails like one that rejects.
  const task = Promise.resolve().then(() => run(progress, abort.signal)).then(
    (result) => push({ type: "done", message: clip(done(result)), result }),
    (err) => {
      // The wire error's code and redacted message only: `data` of a
      // failed install may echo what the operator's files contained.
      const { code, message } = toWireError(err);
      push({
        type: "error",
        message: clip(message),
        error: { code, message: clip(message) },
      });
    },
  ).finally(() => {
    finished = true;
    wake?.();
  });
  try {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        if (next.type !== "progress") return;
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    if (!finished) {
      abort.abort(new Error("The client went away"));
      await task;
    }
  }
}
