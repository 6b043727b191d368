/**
 * Counts the API requests in flight — a streamed response counts until its
 * body ends or the client goes away — and remembers when the daemon was
 * last busy. The idle timeout of an ephemeral daemon reads it.
 *
 * @module
 */

/** In-flight requests and the time of the last activity. */
export class Activity {
  readonly #now: () => number;
  #inFlight = 0;
  #last: number;

  /** @param now The clock (ms). */
  constructor(now: () => number) {
    this.#now = now;
    this.#last = now();
  }

  /** Requests being served now (open streams included). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** When the last request ended or began, ms. */
  get lastActive(): number {
    return this.#last;
  }

  /** Marks activity now (e.g. a turn still running). */
  touch(): void {
    this.#last = this.#now();
  }

  #begin(): () => void {
    this.#inFlight++;
    this.touch();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
      this.touch();
    };
  }

  /**
   * Wraps a fetch handler so every request, and every response body until
   * it ends, counts as activity.
   *
   * @param handler The handler.
   * @returns The counting handler.
   */
  wrap(
    handler: (request: Request) => Promise<Response>,
  ): (request: Request) => Promise<Response> {
    return async (request) => {
      const end = this.#begin();
      let response: Response;
      try {
        response = await handler(request);
      } catch (err) {
        end();
        throw err;
      }
      if (response.body === null) {
        end();
        return response;
      }
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await reader.read();
            if (next.done) {
              end();
              controller.close();
            } else controller.enqueue(next.value);
          } catch (err) {
            end();
            controller.error(err);
          }
        },
        async cancel(reason) {
          end();
          await reader.cancel(reason);
        },
      });
      return new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    };
  }
}
