/**
 * Host calls for `js` capsules: {@linkcode callHost} sends one call of the
 * host ABI (`./host_abi.ts`) through the engine's binding, and
 * {@linkcode host} groups every function into a typed object
 * (`host.fs.read`, `host.kv.set`, `host.http.request`, …). Every call is
 * decided by the kernel's gate before any effect; a refusal rejects with a
 * {@linkcode HostCallError} carrying the kernel's error code.
 *
 * @module
 */
import { HOST_BINDING_NAME } from "./capsule.ts";
import type { HostFunctionName, HostParams, HostResult } from "./host_abi.ts";
import { stringifyWithRaw } from "./raw_json.ts";

/** A host call the kernel refused or that failed; `code` is a kernel error code. */
export class HostCallError extends Error {
  /** The kernel's error code (see `ERROR_CODES`), e.g. `MANIFEST_DENIED`. */
  readonly code: string;
  /** The host function that failed. */
  readonly fn: string;

  /**
   * Creates the error a refused or failed host call rejects with.
   *
   * @param code The kernel's error code.
   * @param message What failed and why.
   * @param fn The host function that failed.
   */
  constructor(code: string, message: string, fn: string) {
    super(message);
    this.name = "HostCallError";
    this.code = code;
    this.fn = fn;
  }
}

type Binding = (fn: string, payloadJson: string) => Promise<string>;

function binding(fn: string): Binding {
  const b = (globalThis as Record<string, unknown>)[HOST_BINDING_NAME];
  if (typeof b !== "function") {
    throw new HostCallError(
      "CAPSULE_FAILED",
      `Cannot call host function '${fn}': not running inside the Astrid js engine`,
      fn,
    );
  }
  return b as Binding;
}

/**
 * Calls one host function by name.
 *
 * @param fn The host function.
 * @param params Its JSON parameters (a `RawJson` inside is written as its
 *   text, see `./raw_json.ts`).
 * @returns Its JSON result.
 * @throws {HostCallError} With the kernel's code: e.g. `MANIFEST_DENIED`,
 *   `POLICY_BLOCKED`, `APPROVAL_DENIED`, `ABI_PAYLOAD_TOO_LARGE`, `ABORTED`; and
 *   `CAPSULE_FAILED` outside the engine.
 *
 * @example Outside the engine a host call is refused
 * ```ts
 * import { callHost, HostCallError } from "./host.ts";
 * try {
 *   await callHost("clock_now", {});
 * } catch (err) {
 *   console.assert(err instanceof HostCallError && err.code === "CAPSULE_FAILED");
 * }
 * ```
 */
export async function callHost<F extends HostFunctionName>(
  fn: F,
  params: HostParams<F>,
): Promise<HostResult<F>> {
  const call = binding(fn);
  let text: string;
  try {
    text = await call(fn, stringifyWithRaw(params ?? {}));
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown } | null;
    const code = typeof e?.code === "string" ? e.code : "CAPSULE_FAILED";
    const message = typeof e?.message === "string" ? e.message : String(err);
    throw new HostCallError(code, message, fn);
  }
  return JSON.parse(text) as HostResult<F>;
}

/**
 * An open HTTP stream (`host.http.stream()`): status and headers arrived;
 * the body is read piece by piece as it arrives. It belongs to the action
 * call that opened it and is closed when that call returns.
 *
 * @example Collect the body of a stream (a stand-in)
 * ```ts
 * import type { HttpStream } from "./host.ts";
 * const stream: HttpStream = {
 *   status: 200,
 *   headers: { "content-type": "application/x-ndjson" },
 *   async *chunks() { yield '{"a":'; yield "1}\n"; },
 *   close: () => Promise.resolve(),
 * };
 * let body = "";
 * for await (const piece of stream.chunks()) body += piece;
 * await stream.close();
 * console.assert(body === '{"a":1}\n');
 * ```
 */
export interface HttpStream {
  /** The HTTP status. */
  readonly status: number;
  /** The response headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The body's pieces as UTF-8 text, as they arrive (a piece never ends
   * inside a character, but may end inside a line: parse with `sseEvents`
   * or `ndjsonLines`). Ending the loop early closes the stream.
   *
   * @throws {HostCallError} `ABI_STREAM_TOO_LARGE`, `ABI_STREAM_TIMEOUT`,
   *   `HOST_IO` (the connection was cut), `ABORTED`.
   */
  chunks(): AsyncIterable<string>;
  /** Closes the stream (idempotent). */
  close(): Promise<void>;
}

/** Opens a stream and wraps its id. */
async function openStream(
  params: HostParams<"http_stream_open">,
): Promise<HttpStream> {
  const opened = await callHost("http_stream_open", params);
  const id = { stream_id: opened.stream_id };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await callHost("http_stream_close", id);
  };
  return Object.freeze({
    status: opened.status,
    headers: opened.headers,
    async *chunks(): AsyncGenerator<string> {
      if (closed) return;
      try {
        while (true) {
          let r: HostResult<"http_stream_read">;
          try {
            r = await callHost("http_stream_read", id);
          } catch (err) {
            closed = true; // a failed stream is gone on the kernel's side
            throw err;
          }
          if (r.chunk !== "") yield r.chunk;
          if (r.done) return;
        }
      } finally {
        await close();
      }
    },
    close,
  });
}

/** The host ABI as a typed object; see {@linkcode host}. */
export interface Host {
  /** Files (overlay, `home://`, `/tmp`), subject to the manifest's fs grants. */
  readonly fs: {
    /** Reads a file as UTF-8 (default) or base64. */
    read(
      path: string,
      options?: { encoding?: "utf8" | "base64" },
    ): Promise<string>;
    /** Creates or truncates a file. */
    write(
      path: string,
      content: string,
      options?: { encoding?: "utf8" | "base64" },
    ): Promise<void>;
    /** Whether a path exists. */
    exists(path: string): Promise<boolean>;
    /** A directory's entries. */
    readDir(path: string): Promise<HostResult<"fs_readdir">["entries"]>;
    /** Size, kind and modification time. */
    stat(path: string): Promise<HostResult<"fs_stat">>;
    /** Creates a directory and its parents. */
    mkdir(path: string): Promise<void>;
    /** Deletes a file. */
    unlink(path: string): Promise<void>;
  };
  /** The bus, subject to the manifest's ACL. */
  readonly ipc: {
    /** Publishes a message. */
    publish(topic: string, payload: unknown): Promise<void>;
    /** Sends a request and resolves to the response payload. */
    request(
      topic: string,
      payload: unknown,
      options?: { timeoutMs?: number },
    ): Promise<unknown>;
  };
  /** The capsule's own key-value namespace. */
  readonly kv: {
    /** A value, or `null` when the key is absent. */
    get(key: string): Promise<unknown | null>;
    /** Stores a JSON value. */
    set(key: string, value: unknown): Promise<void>;
    /** Deletes a key. */
    delete(key: string): Promise<void>;
    /** Keys under a prefix. */
    listKeys(prefix?: string): Promise<string[]>;
  };
  /** HTTP, subject to the manifest's `net` grants and the SSRF policy. */
  readonly http: {
    /** One request. */
    request(
      params: HostParams<"http_request">,
    ): Promise<HostResult<"http_request">>;
    /**
     * One request whose body is read as it arrives (decided once, like
     * `request`; capped by `max_bytes` and `timeout_ms`).
     */
    stream(params: HostParams<"http_stream_open">): Promise<HttpStream>;
  };
  /** Sub-agents (see `agent_delegate` in the host ABI). */
  readonly agent: {
    /** Runs a sub-agent turn and returns its final answer. */
    delegate(
      params: HostParams<"agent_delegate">,
    ): Promise<HostResult<"agent_delegate">>;
  };
  /** Host processes, subject to the manifest's `host_process` grants. */
  readonly process: {
    /** Runs a command to completion. */
    spawn(
      params: HostParams<"process_spawn">,
    ): Promise<HostResult<"process_spawn">>;
  };
  /** Human approval (needs `[capabilities] approval = true`; rate-limited, audited). */
  readonly approval: {
    /** Asks the human to approve something. */
    request(
      params: HostParams<"approval_request">,
    ): Promise<HostResult<"approval_request">>;
  };
  /** The capsule's non-secret configuration. */
  readonly config: {
    /** A value, or `null` when unset. */
    get(key: string): Promise<string | null>;
  };
  /** Secrets (never their values). */
  readonly secret: {
    /** Whether a secret is set. */
    exists(key: string): Promise<boolean>;
  };
  /** The capsule's log. */
  readonly log: {
    /** Logs at debug level. */
    debug(message: string): Promise<void>;
    /** Logs at info level. */
    info(message: string): Promise<void>;
    /** Logs at warn level. */
    warn(message: string): Promise<void>;
    /** Logs at error level. */
    error(message: string): Promise<void>;
  };
  /** The kernel's clock. */
  readonly clock: {
    /** Milliseconds since the epoch. */
    now(): Promise<number>;
    /** Waits `ms` (at most 60 000) on the kernel's clock. */
    sleep(ms: number): Promise<void>;
  };
  /** Who the current call runs for. */
  identity(): Promise<HostResult<"identity">>;
  /** Asks the human for a value declared in `[env]`; `null` when declined (always for a secret). */
  elicit(params: HostParams<"elicit">): Promise<string | null>;
}

const done = (): void => undefined;

/**
 * Every host function as a typed method.
 *
 * @example Call the host through the engine's binding (here a stand-in)
 * ```ts
 * import { host } from "./host.ts";
 * const g = globalThis as Record<string, unknown>;
 * g.__astrid_host = (fn: string, _json: string) =>
 *   Promise.resolve(fn === "clock_now" ? '{"now_ms":42}' : "null");
 * console.assert(await host.clock.now() === 42);
 * delete g.__astrid_host;
 * ```
 *
 * @example Read a streamed response as Server-Sent Events (a stand-in binding)
 * ```ts
 * import { host } from "./host.ts";
 * import { sseEvents } from "./stream.ts";
 * const pieces = ["data: he", "llo\n\n", ""];
 * const g = globalThis as Record<string, unknown>;
 * g.__astrid_host = (fn: string, _json: string) => {
 *   if (fn === "http_stream_open") {
 *     return Promise.resolve('{"stream_id":"s1","status":200,"headers":{}}');
 *   }
 *   if (fn === "http_stream_read") {
 *     const chunk = pieces.shift() ?? "";
 *     return Promise.resolve(JSON.stringify({ chunk, done: pieces.length === 0 }));
 *   }
 *   return Promise.resolve('{"ok":true}');
 * };
 * const res = await host.http.stream({ url: "https://api.example.com/sse" });
 * const events = [];
 * for await (const e of sseEvents(res.chunks())) events.push(e.data);
 * console.assert(res.status === 200 && events[0] === "hello");
 * delete g.__astrid_host;
 * ```
 *
 * @example Use it in a capsule
 * ```ts ignore
 * import { defineCapsule, host } from "@astrid/sdk";
 * export default defineCapsule({
 *   async remember(payload: { note: string }) {
 *     await host.kv.set("note", payload.note);
 *     return { stored: await host.kv.get("note") };
 *   },
 * });
 * ```
 */
export const host: Host = Object.freeze({
  fs: Object.freeze({
    read: async (path: string, o: { encoding?: "utf8" | "base64" } = {}) =>
      (await callHost("fs_read", { path, ...o })).content,
    write: (
      path: string,
      content: string,
      o: { encoding?: "utf8" | "base64" } = {},
    ) => callHost("fs_write", { path, content, ...o }).then(done),
    exists: async (path: string) =>
      (await callHost("fs_exists", { path })).exists,
    readDir: async (path: string) =>
      (await callHost("fs_readdir", { path })).entries,
    stat: (path: string) => callHost("fs_stat", { path }),
    mkdir: (path: string) => callHost("fs_mkdir", { path }).then(done),
    unlink: (path: string) => callHost("fs_unlink", { path }).then(done),
  }),
  ipc: Object.freeze({
    publish: (topic: string, payload: unknown) =>
      callHost("ipc_publish", { topic, payload }).then(done),
    request: async (
      topic: string,
      payload: unknown,
      o: { timeoutMs?: number } = {},
    ) =>
      (await callHost("ipc_request", {
        topic,
        payload,
        ...(o.timeoutMs === undefined ? {} : { timeout_ms: o.timeoutMs }),
      })).payload,
  }),
  kv: Object.freeze({
    get: async (key: string) =>
      (await callHost("kv_get", { key })).value ?? null,
    set: (key: string, value: unknown) =>
      callHost("kv_set", { key, value }).then(done),
    delete: (key: string) => callHost("kv_delete", { key }).then(done),
    listKeys: async (prefix = "") =>
      (await callHost("kv_list_keys", { prefix })).keys,
  }),
  http: Object.freeze({
    request: (params: HostParams<"http_request">) =>
      callHost("http_request", params),
    stream: openStream,
  }),
  agent: Object.freeze({
    delegate: (params: HostParams<"agent_delegate">) =>
      callHost("agent_delegate", params),
  }),
  process: Object.freeze({
    spawn: (params: HostParams<"process_spawn">) =>
      callHost("process_spawn", params),
  }),
  approval: Object.freeze({
    request: (params: HostParams<"approval_request">) =>
      callHost("approval_request", params),
  }),
  config: Object.freeze({
    get: async (key: string) => (await callHost("config_get", { key })).value,
  }),
  secret: Object.freeze({
    exists: async (key: string) =>
      (await callHost("secret_exists", { key })).exists,
  }),
  log: Object.freeze({
    debug: (message: string) =>
      callHost("log", { level: "debug", message }).then(done),
    info: (message: string) =>
      callHost("log", { level: "info", message }).then(done),
    warn: (message: string) =>
      callHost("log", { level: "warn", message }).then(done),
    error: (message: string) =>
      callHost("log", { level: "error", message }).then(done),
  }),
  clock: Object.freeze({
    now: async () => (await callHost("clock_now", {})).now_ms,
    sleep: (ms: number) => callHost("clock_sleep", { ms }).then(done),
  }),
  identity: () => callHost("identity", {}),
  elicit: async (params: HostParams<"elicit">) =>
    (await callHost("elicit", params)).value,
});
