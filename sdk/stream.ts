/**
 * Parsers for streamed HTTP bodies, as a capsule reads them from
 * `host.http.stream()`: {@linkcode sseEvents} (Server-Sent Events, the
 * framing of the Anthropic and OpenAI streaming APIs) and
 * {@linkcode ndjsonLines} (newline-delimited JSON, Ollama's). Both take the
 * body's pieces as they arrive and do not care where a piece ends: in the
 * middle of a line, between `\r` and `\n`, or (for byte pieces) inside a
 * UTF-8 character.
 *
 * @module
 */

/**
 * One Server-Sent Event.
 *
 * @example An Anthropic stream event
 * ```ts
 * import type { SseEvent } from "./stream.ts";
 * const e: SseEvent = { event: "ping", data: '{"type":"ping"}' };
 * console.assert(JSON.parse(e.data).type === e.event);
 * ```
 */
export interface SseEvent {
  /** The `event:` field; `"message"` when the event has none. */
  readonly event: string;
  /** The `data:` lines, joined with `\n`. */
  readonly data: string;
}

/** Text pieces; byte pieces are decoded as UTF-8 across piece boundaries. */
async function* textOf(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  for await (const chunk of chunks) {
    if (typeof chunk === "string") {
      yield chunk;
      continue;
    }
    decoder ??= new TextDecoder();
    yield decoder.decode(chunk, { stream: true });
  }
  const rest = decoder?.decode() ?? "";
  if (rest !== "") yield rest;
}

/**
 * Splits pieces into lines (terminated by `\n`, `\r\n` or `\r`); the last
 * line is yielded even without a terminator.
 */
async function* linesOf(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of textOf(chunks)) {
    buffer += text;
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      // A `\r` at the very end may be the first half of `\r\n`: wait.
      if (c === "\r" && i === buffer.length - 1) break;
      yield buffer.slice(start, i);
      if (c === "\r" && buffer[i + 1] === "\n") i++;
      start = i + 1;
    }
    buffer = buffer.slice(start);
  }
  if (buffer.endsWith("\r")) buffer = buffer.slice(0, -1);
  if (buffer !== "") yield buffer;
}

/**
 * Parses a Server-Sent Events body into its events, following the
 * WHATWG event-stream rules: an event ends at a blank line; `data:` lines
 * are joined with `\n`; one space after the colon is dropped; comment lines
 * (`:`) and the `id`/`retry` fields are ignored; an event without data is
 * not dispatched, nor is an unterminated one at the end of the body.
 *
 * @param chunks The body's pieces, as they arrive (text or bytes).
 * @returns The events, in order.
 * @throws {TypeError} Only what iterating `chunks` throws (e.g. a
 *   `HostCallError` with code `ABI_STREAM_TIMEOUT`).
 *
 * @example Parse events whose lines are split across pieces
 * ```ts
 * import { sseEvents } from "./stream.ts";
 * async function* body() {
 *   yield "event: ping\ndata: {\"a\"";
 *   yield ":1}\n\n: a comment\ndata: x\r";
 *   yield "\ndata: y\n\n";
 * }
 * const events = [];
 * for await (const e of sseEvents(body())) events.push(e);
 * console.assert(events.length === 2);
 * console.assert(events[0]?.event === "ping" && events[0]?.data === '{"a":1}');
 * console.assert(events[1]?.event === "message" && events[1]?.data === "x\ny");
 * ```
 */
export async function* sseEvents(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<SseEvent> {
  let event = "";
  let data: string[] = [];
  for await (const line of linesOf(chunks)) {
    if (line === "") {
      if (data.length > 0) {
        yield {
          event: event === "" ? "message" : event,
          data: data.join("\n"),
        };
      }
      event = "";
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
}

/**
 * Parses a newline-delimited JSON body: one JSON value per line, blank
 * lines skipped, the last line parsed even without a final newline.
 *
 * @param chunks The body's pieces, as they arrive (text or bytes).
 * @returns The values, in order.
 * @throws {SyntaxError} When a line is not JSON (the message quotes its
 *   start).
 *
 * @example Parse lines split across pieces
 * ```ts
 * import { ndjsonLines } from "./stream.ts";
 * async function* body() {
 *   yield '{"n":1}\n{"n"';
 *   yield ':2}\r\n\n{"done":true}';
 * }
 * const values = [];
 * for await (const v of ndjsonLines(body())) values.push(v);
 * console.assert(JSON.stringify(values) === '[{"n":1},{"n":2},{"done":true}]');
 * ```
 */
export async function* ndjsonLines(
  chunks: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<unknown> {
  for await (const line of linesOf(chunks)) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new SyntaxError(
        `Cannot parse an NDJSON line as JSON: ${
          JSON.stringify(line.slice(0, 80))
        }`,
      );
    }
    yield value;
  }
}
