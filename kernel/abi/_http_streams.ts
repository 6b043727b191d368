/**
 * Private: the HTTP streams one capsule instance holds open
 * (`http_stream_open` / `_read` / `_close`, see `http_stream_calls.ts`).
 *
 * Security model: a stream is an already decided response (the decision was
 * made when it opened); what it may still do is bounded by its own caps —
 * total bytes (`ABI_STREAM_TOO_LARGE`) and total time (`ABI_STREAM_TIMEOUT`,
 * measured on the kernel's clock from the moment the request was allowed).
 * A stream belongs to the invoke that opened it: the table lives in the
 * capsule instance's dispatcher (another capsule cannot name it), a read or
 * close from another invoke is refused as `NOT_FOUND`, and the stream is
 * closed when that invoke ends or the capsule unloads. At most
 * {@linkcode MAX_OPEN_STREAMS} streams are open per capsule instance
 * (`ABI_STREAM_LIMIT`).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { uuidV4 } from "../core/ids.ts";
import type { Clock, Random } from "../core/ports.ts";

/** Open (not yet finished) streams per capsule instance. */
export const MAX_OPEN_STREAMS = 8;

/** One open response body, read chunk by chunk as UTF-8. */
export class OpenStream {
  readonly #controller: AbortController;
  readonly #maxBytes: number;
  readonly #decoder = new TextDecoder();
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #bytes = 0;
  #reading = false;
  #done = false;

  /**
   * @param controller Aborting it cancels the fetch (its signal is in the
   *   fetch's); its reason is what a pending read fails with.
   * @param maxBytes The byte cap of the whole body.
   */
  constructor(controller: AbortController, maxBytes: number) {
    this.#controller = controller;
    this.#maxBytes = maxBytes;
  }

  /** Takes the response body (after the decision, once headers arrived). */
  attach(res: Response): void {
    this.#reader = res.body?.getReader();
    if (this.#reader === undefined) this.#done = true;
  }

  /** Whether the body was read to its end (the connection is released). */
  get done(): boolean {
    return this.#done;
  }

  /**
   * The next chunk (may be `""` when the bytes so far end inside a UTF-8
   * character), or `done` at the end.
   *
   * @throws {KernelError} `ABI_STREAM_TOO_LARGE`, `ABI_STREAM_TIMEOUT`,
   *   `ABORTED`, `HOST_IO` (the connection failed), `INVALID_INPUT` (a read
   *   is already pending).
   */
  async read(): Promise<{ chunk: string; done: boolean }> {
    if (this.#done || this.#reader === undefined) {
      return { chunk: "", done: true };
    }
    if (this.#reading) {
      throw new KernelError(
        "INVALID_INPUT",
        "http_stream_read: a read of this stream is already pending",
      );
    }
    this.#reading = true;
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      this.#controller.signal.throwIfAborted();
      r = await this.#reader.read();
    } catch (err) {
      throw this.#failure(err);
    } finally {
      this.#reading = false;
    }
    if (r.done) {
      // Cancelled under a pending read (a cap, the call's end): not an end.
      if (this.#controller.signal.aborted) throw this.#failure(undefined);
      this.#done = true;
      this.#reader = undefined;
      return { chunk: this.#decoder.decode(), done: true };
    }
    this.#bytes += r.value.length;
    if (this.#bytes > this.#maxBytes) {
      const err = new KernelError(
        "ABI_STREAM_TOO_LARGE",
        `The streamed response exceeds its cap of ${this.#maxBytes} bytes; the stream was closed`,
      );
      this.close(err);
      throw err;
    }
    return {
      chunk: this.#decoder.decode(r.value, { stream: true }),
      done: false,
    };
  }

  /** Cancels the body and the fetch. Idempotent. */
  close(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    const reader = this.#reader;
    this.#reader = undefined;
    this.#done = true;
    reader?.cancel(reason).catch(
      () => {/* silent-ok: already finished or failed */},
    );
  }

  #failure(err: unknown): KernelError {
    const signal = this.#controller.signal;
    const reason: unknown = signal.aborted ? signal.reason : err;
    this.close(reason);
    if (KernelError.is(reason)) return reason;
    if (signal.aborted) {
      return new KernelError("ABORTED", "The stream was closed", {
        cause: reason,
      });
    }
    return new KernelError(
      "HOST_IO",
      `The streamed response failed: ${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err },
    );
  }
}

/** The streams of one invoke, as a host function sees them. */
export interface InvokeStreams {
  /**
   * Refuses before any connection when the capsule is at its cap.
   * @throws {KernelError} `ABI_STREAM_LIMIT`.
   */
  checkRoom(): void;
  /**
   * Starts the stream's time cap and registers it for this invoke.
   * @throws {KernelError} `ABI_STREAM_LIMIT` (the stream is closed).
   */
  add(stream: OpenStream): string;
  /**
   * The invoke's stream `id`.
   * @throws {KernelError} `NOT_FOUND` (unknown, closed, or another invoke's).
   */
  get(id: string): OpenStream;
  /**
   * Closes and forgets the invoke's stream `id`.
   * @throws {KernelError} `NOT_FOUND`.
   */
  close(id: string): void;
  /** Forgets the invoke's stream `id` if it is still there (never throws). */
  discard(id: string): void;
  /** See {@linkcode HttpStreams.startTimer}. */
  startTimer(controller: AbortController, ms: number): void;
}

interface Entry {
  readonly stream: OpenStream;
  readonly owner: AbortSignal;
  readonly forget: () => void;
}

/** Every stream of one capsule instance. */
export class HttpStreams {
  readonly #open = new Map<string, Entry>();
  readonly #random: Random;
  readonly #clock: Clock;
  readonly #max: number;

  /**
   * @param deps Clock (time caps) and randomness (stream ids).
   * @param o `unload` closes every stream; `max` open streams.
   */
  constructor(
    deps: { clock: Clock; random: Random },
    o: { unload: AbortSignal; max?: number },
  ) {
    this.#random = deps.random;
    this.#clock = deps.clock;
    this.#max = o.max ?? MAX_OPEN_STREAMS;
    o.unload.addEventListener("abort", () => {
      for (const id of [...this.#open.keys()]) {
        this.#drop(id, new KernelError("ABORTED", "The capsule was unloaded"));
      }
    }, { once: true });
  }

  /** How many streams are open (not finished). */
  get openCount(): number {
    let n = 0;
    for (const e of this.#open.values()) if (!e.stream.done) n++;
    return n;
  }

  /**
   * The view of one invoke.
   *
   * @param owner The invoke's signal (fires when it ends).
   * @returns Its streams.
   */
  of(owner: AbortSignal): InvokeStreams {
    return {
      checkRoom: () => this.#checkRoom(),
      add: (stream) => {
        try {
          this.#checkRoom();
        } catch (err) {
          stream.close(err);
          throw err;
        }
        const id = uuidV4(this.#random);
        const onEnd = () =>
          this.#drop(
            id,
            new KernelError("ABORTED", "The call that opened the stream ended"),
          );
        owner.addEventListener("abort", onEnd, { once: true });
        this.#open.set(id, {
          stream,
          owner,
          forget: () => owner.removeEventListener("abort", onEnd),
        });
        if (owner.aborted) onEnd();
        return id;
      },
      get: (id) => this.#entry(owner, id).stream,
      close: (id) => {
        this.#entry(owner, id);
        this.#drop(
          id,
          new KernelError("ABORTED", "The capsule closed the stream"),
        );
      },
      discard: (id) => {
        if (this.#open.get(id)?.owner === owner) {
          this.#drop(id, new KernelError("ABORTED", "The stream failed"));
        }
      },
      startTimer: (controller, ms) => this.startTimer(controller, ms),
    };
  }

  /**
   * Fires `controller` with `ABI_STREAM_TIMEOUT` after `ms` on the kernel's
   * clock, unless it fired before.
   *
   * @param controller The stream's controller.
   * @param ms The time cap.
   */
  startTimer(controller: AbortController, ms: number): void {
    this.#clock.sleep(ms, { signal: controller.signal }).then(
      () =>
        controller.abort(
          new KernelError(
            "ABI_STREAM_TIMEOUT",
            `The streamed response exceeds its time cap of ${ms} ms; the stream was closed`,
          ),
        ),
      () => {/* silent-ok: the stream ended first */},
    );
  }

  #checkRoom(): void {
    if (this.openCount >= this.#max) {
      throw new KernelError(
        "ABI_STREAM_LIMIT",
        `Cannot open another HTTP stream: ${this.#max} are open; close one first`,
      );
    }
  }

  #entry(owner: AbortSignal, id: string): Entry {
    const e = this.#open.get(id);
    if (e === undefined || e.owner !== owner) {
      throw new KernelError(
        "NOT_FOUND",
        "No open HTTP stream of this call has that id",
      );
    }
    return e;
  }

  #drop(id: string, reason: KernelError): void {
    const e = this.#open.get(id);
    if (e === undefined) return;
    this.#open.delete(id);
    e.forget();
    e.stream.close(reason);
  }
}
