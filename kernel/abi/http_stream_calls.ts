/**
 * `http_stream_open`, `http_stream_read`, `http_stream_close`: an HTTP
 * response read as it arrives (SSE, NDJSON — model streams).
 *
 * Security model: a stream opens through the same door as `http_request`
 * (`gatedHttp` in `http_calls.ts`): decided once as `capsule_http_request`
 * (manifest `net` incl. the port, SSRF policy), the DNS check and pinned
 * fetch, `{{secret:NAME}}` header values substituted after their own
 * `secret_use` decision, redirects returned, not followed. A denied request
 * makes no connection. After that, reads and closes need no decision; the
 * stream is bounded by its caps (`max_bytes`, `timeout_ms` on the kernel's
 * clock), belongs to the invoke that opened it and is closed when that
 * invoke ends or the capsule unloads (`_http_streams.ts`).
 *
 * @module
 */
import { linkSignals } from "../core/linked_signal.ts";
import { Params } from "./_params.ts";
import { gatedHttp, readHttpRequest } from "./http_calls.ts";
import { OpenStream } from "./_http_streams.ts";
import type { HostCall } from "./host_call.ts";

/** Default and maximum total time of a stream (ms). */
export const STREAM_TIMEOUT_MS = { default: 300_000, max: 1_800_000 } as const;
/** Default and maximum total bytes of a stream. */
export const STREAM_MAX_BYTES = {
  default: 16 * 1024 * 1024,
  max: 256 * 1024 * 1024,
} as const;

/** `http_stream_open`. */
export const httpStreamOpen: HostCall = async (payload, call) => {
  const p = new Params("http_stream_open", payload);
  const request = readHttpRequest("http_stream_open", p);
  const timeoutMs = p.optInt("timeout_ms", STREAM_TIMEOUT_MS.max) ??
    STREAM_TIMEOUT_MS.default;
  const maxBytes = p.optInt("max_bytes", STREAM_MAX_BYTES.max) ??
    STREAM_MAX_BYTES.default;
  // At the cap: refused before the decision, so before any connection.
  call.streams.checkRoom();
  const controller = new AbortController();
  const stream = new OpenStream(controller, maxBytes);
  try {
    return await gatedHttp(request, call, {
      signal: () => {
        call.streams.startTimer(controller, timeoutMs);
        // Not unlinked: the stream outlives this host call; both sources
        // end with the invoke that opened it (the call's signal fires then).
        return linkSignals([call.signal, controller.signal]).signal;
      },
    }, (res) => {
      stream.attach(res);
      const id = call.streams.add(stream);
      return Promise.resolve({
        stream_id: id,
        status: res.status,
        headers: Object.fromEntries(res.headers),
      });
    });
  } catch (err) {
    stream.close(err);
    throw err;
  }
};

/** `http_stream_read`. */
export const httpStreamRead: HostCall = async (payload, call) => {
  const id = new Params("http_stream_read", payload).string("stream_id", 64);
  const stream = call.streams.get(id);
  try {
    return await stream.read();
  } catch (err) {
    // A failed stream (cap, cut, closed) is gone: its id is no longer valid.
    call.streams.discard(id);
    throw err;
  }
};

/** `http_stream_close`. */
export const httpStreamClose: HostCall = (payload, call) => {
  const id = new Params("http_stream_close", payload).string("stream_id", 64);
  call.streams.close(id);
  return Promise.resolve({ ok: true });
};
