/**
 * Ports: the only ways kernel code learns the time, gets randomness or logs.
 * Real adapters live in `kernel/host/`, fakes in `kernel/testing/`.
 *
 * @module
 */

/** Wall-clock time and sleeping. */
export interface Clock {
  /** Milliseconds since the UNIX epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds; rejects with `ABORTED` when the signal fires.
   *
   * @param ms Milliseconds to wait.
   * @param options Optional cancellation.
   */
  sleep(ms: number, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Calls `fire` once, `ms` milliseconds from now (never synchronously),
   * unless cancelled first: a bound that is nearly always cancelled costs
   * no promise, no signal and no error this way. Optional; without it a
   * caller uses `sleep` with a signal.
   *
   * @param ms Milliseconds to wait (non-negative; `Infinity` never fires).
   * @param fire What to call when due.
   * @returns Cancels the timer; idempotent, and a no-op once it fired.
   */
  timer?(ms: number, fire: () => void): () => void;
}

/** Cryptographically strong randomness (or a seeded fake in tests). */
export interface Random {
  /**
   * Returns `n` fresh random bytes.
   *
   * @param n How many bytes.
   */
  bytes(n: number): Uint8Array;
}

/** Severity of a log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured fields attached to a log record. */
export type LogFields = Readonly<Record<string, unknown>>;

/** Structured logging. */
export interface Logger {
  /** Logs at `level`. */
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** Returns a logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

/** Numeric order of log levels, lowest first. */
export const LOG_LEVEL_ORDER: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};

/** What `stat`/`lstat` report about a path. */
export interface FileInfo {
  /** A regular file. */
  readonly isFile: boolean;
  /** A directory. */
  readonly isDirectory: boolean;
  /** A symbolic link (only `lstat` can report this). */
  readonly isSymlink: boolean;
  /**
   * An overlayfs whiteout: a character device 0/0 (only `lstat` reports it;
   * absent means no).
   */
  readonly isWhiteout?: boolean;
  /** Size in bytes. */
  readonly size: number;
  /** Permission bits (`mode & 0o777`), or `null` where the platform has none. */
  readonly mode: number | null;
  /** Modification time in ms since the epoch, or `null` when unknown. */
  readonly mtimeMs: number | null;
}

/** One entry of a directory listing. */
export interface DirEntry {
  /** The entry's name (no directory part). */
  readonly name: string;
  /** A regular file. */
  readonly isFile: boolean;
  /** A directory. */
  readonly isDirectory: boolean;
  /** A symbolic link. */
  readonly isSymlink: boolean;
}

/** Options shared by file-system calls. */
export interface FsCallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Options of {@linkcode FileSystem.readFileChecked}. */
export interface CheckedReadOptions extends FsCallOptions {
  /** Files larger than this are not read (`too_large`); default 50 MiB. */
  maxBytes?: number;
}

/**
 * The outcome of {@linkcode FileSystem.readFileChecked}:
 * - `file`: the bytes, the open descriptor's own `stat`, and `realPath`, the
 *   absolute path that descriptor refers to (no symlinks, no `..`);
 * - `symlink`: the final component is a symlink (or a symlink loop), not
 *   opened — only where the host can open without following (a Deno process
 *   with `--allow-all`; under scoped permissions Deno resolves symlinks
 *   before opening, and the caller sees `file` with the target's `realPath`);
 * - `missing`: the path (or a parent) does not exist;
 * - `not_file`: a directory, FIFO, socket or device, not read;
 * - `too_large`: larger than `maxBytes`, not read;
 * - `replaced`: the path stopped naming the opened file while it was being
 *   opened (a swap race), not read.
 */
export type CheckedRead =
  | {
    readonly kind: "file";
    readonly data: Uint8Array;
    readonly info: FileInfo;
    readonly realPath: string;
  }
  | { readonly kind: "symlink" }
  | { readonly kind: "missing" }
  | { readonly kind: "not_file"; readonly info: FileInfo }
  | { readonly kind: "too_large"; readonly info: FileInfo }
  | { readonly kind: "replaced" };

/**
 * The host file system. Implementations map failures to `KernelError`:
 * missing path ⇒ `NOT_FOUND`, sandbox refusal ⇒ `HOST_PERMISSION_DENIED`,
 * anything else ⇒ `HOST_IO`.
 */
export interface FileSystem {
  /** Reads a whole file. */
  readFile(path: string, options?: FsCallOptions): Promise<Uint8Array>;
  /** Reads a whole file as UTF-8. */
  readTextFile(path: string, options?: FsCallOptions): Promise<string>;
  /**
   * Writes a whole file. `mode` applies when the file is created; `createNew`
   * fails with `HOST_IO` if the file exists (also when it is a symlink, which
   * is then not followed); `sync` flushes the data to disk before returning.
   */
  writeFile(
    path: string,
    data: Uint8Array | string,
    options?: FsCallOptions & {
      mode?: number;
      createNew?: boolean;
      sync?: boolean;
    },
  ): Promise<void>;
  /**
   * Appends to a file (created with `mode` when missing) with one write, so
   * a killed process leaves at most a torn tail. Optional so that small test
   * fakes need not implement it; without it `kernel/vfs` saves its whole
   * manifest on every change instead of journalling.
   */
  appendFile?(
    path: string,
    data: Uint8Array | string,
    options?: FsCallOptions & { mode?: number },
  ): Promise<void>;
  /**
   * Reads a whole regular file through one open descriptor that did not
   * follow a final symlink, and reports the real path of that descriptor, so
   * a caller can check where the bytes really came from even when a path
   * component was swapped for a symlink while the file was being opened.
   * Optional so that small test fakes need not implement it; `kernel/vfs`
   * requires it.
   */
  readFileChecked?(
    path: string,
    options?: CheckedReadOptions,
  ): Promise<CheckedRead>;
  /** Follows symlinks. `null` when the path does not exist. */
  stat(path: string): Promise<FileInfo | null>;
  /** Does not follow a final symlink. `null` when the path does not exist. */
  lstat(path: string): Promise<FileInfo | null>;
  /** Creates a directory (and parents when `recursive`). */
  mkdir(
    path: string,
    options?: { recursive?: boolean; mode?: number },
  ): Promise<void>;
  /** Sets permission bits. */
  chmod(path: string, mode: number): Promise<void>;
  /** Removes a file or directory (tree when `recursive`). Missing path ⇒ `NOT_FOUND`. */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Atomically renames within one file system. */
  rename(from: string, to: string): Promise<void>;
  /** Lists a directory. */
  readDir(path: string): Promise<DirEntry[]>;
  /** Resolves symlinks and `..` to an absolute real path. */
  realPath(path: string): Promise<string>;
  /** Reads the target of a symlink. */
  readLink(path: string): Promise<string>;
  /**
   * The same file system with no call that blocks the event loop (an
   * implementation may run small calls synchronously, which is cheaper on a
   * local disk; a network file system wants this view). Optional: without
   * it, no call blocks.
   */
  nonBlocking?(): FileSystem;
}

/** Read access to environment variables. */
export interface Env {
  /** The value of `name`, or `undefined`. */
  get(name: string): string | undefined;
}

/** How a child's standard stream is connected. */
export type StdioMode = "piped" | "null" | "inherit";

/** A POSIX signal the kernel may send to a child. */
export type ProcessSignal =
  | "SIGTERM"
  | "SIGKILL"
  | "SIGINT"
  | "SIGHUP"
  | "SIGQUIT"
  | "SIGUSR1"
  | "SIGUSR2";

/** Options of {@linkcode Spawner.spawn}. */
export interface SpawnOptions {
  /** Arguments after the command. */
  args?: readonly string[];
  /** Working directory; the parent's when absent. */
  cwd?: string;
  /**
   * The child's COMPLETE environment. Nothing is inherited from the parent:
   * absent means an empty environment.
   */
  env?: Readonly<Record<string, string>>;
  /** Defaults to `"null"`. */
  stdin?: StdioMode;
  /** Defaults to `"piped"`. */
  stdout?: StdioMode;
  /** Defaults to `"piped"`. */
  stderr?: StdioMode;
  /** Aborting sends SIGTERM to the child. */
  signal?: AbortSignal;
}

/** How a child ended. */
export interface ProcessStatus {
  /** Exit code (128 + n when killed by signal n). */
  readonly code: number;
  /** The signal that ended the child, or `null`. */
  readonly signal: string | null;
  /** `code === 0`. */
  readonly success: boolean;
}

/** A running child process. */
export interface ChildProcess {
  /** The OS process id. */
  readonly pid: number;
  /** The child's stdin when `"piped"`, else `null`. */
  readonly stdin: WritableStream<Uint8Array> | null;
  /** The child's stdout when `"piped"`, else `null`. Must be consumed or cancelled. */
  readonly stdout: ReadableStream<Uint8Array> | null;
  /** The child's stderr when `"piped"`, else `null`. Must be consumed or cancelled. */
  readonly stderr: ReadableStream<Uint8Array> | null;
  /** Resolves when the child exits. */
  readonly status: Promise<ProcessStatus>;
  /** Sends a signal (default `SIGTERM`). */
  kill(signal?: ProcessSignal): void;
}

/** Options of {@linkcode Spawner.output}. */
export interface OutputOptions
  extends Omit<SpawnOptions, "stdin" | "stdout" | "stderr"> {
  /** Bytes (or UTF-8 text) written to the child's stdin, which is then closed. */
  input?: Uint8Array | string;
}

/** The collected result of {@linkcode Spawner.output}. */
export interface ProcessOutput extends ProcessStatus {
  /** Everything the child wrote to stdout. */
  readonly stdout: Uint8Array;
  /** Everything the child wrote to stderr. */
  readonly stderr: Uint8Array;
}

/**
 * Starts host processes. Implementations never let the child inherit the
 * parent's environment, and map failures to `KernelError`: unknown command ⇒
 * `NOT_FOUND`, sandbox refusal ⇒ `HOST_PERMISSION_DENIED`, else `HOST_IO`.
 */
export interface Spawner {
  /** Starts `command` and returns its handle. */
  spawn(command: string, options?: SpawnOptions): ChildProcess;
  /** Runs `command` to completion and collects its output; `ABORTED` when cancelled. */
  output(command: string, options?: OutputOptions): Promise<ProcessOutput>;
}

/** The web `fetch` function. */
export type FetchFn = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

/** Handles one HTTP request. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** A running HTTP server on a unix socket. */
export interface UnixServer {
  /** The socket path. */
  readonly path: string;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Stops accepting, waits for open requests, removes the socket. */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode Net.serveUnix}. */
export interface ServeUnixOptions {
  /** Aborting shuts the server down. */
  signal?: AbortSignal;
  /** Permission bits of the socket file; default `0o600`. */
  mode?: number;
}

/** One request of a {@linkcode UnixHttpClient}. */
export interface UnixHttpRequest {
  /** The method (an HTTP token). */
  readonly method: string;
  /** The path and query (`/v1/status?x=1`). */
  readonly target: string;
  /** The `host` header (an HTTP token); default `localhost`. */
  readonly host?: string;
  /** More headers (not `host`, `connection`, `content-length`, `transfer-encoding`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body, sent UTF-8 encoded with its `content-length`. */
  readonly body?: string;
  /** Cancels the request and its body (`ABORTED`). */
  readonly signal?: AbortSignal;
}

/** The answer to a {@linkcode UnixHttpRequest}. */
export interface UnixHttpResponse {
  /** The status code. */
  readonly status: number;
  /** The headers, names in lower case (repeated ones joined with `, `). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as it arrives; read it once (or {@linkcode text}). */
  readonly body: AsyncIterable<Uint8Array>;
  /** The whole body as text. */
  text(): Promise<string>;
  /** Closes the connection (the body ends); safe to call twice. */
  close(): void;
}

/** HTTP/1.1 to one unix socket, a connection per request. */
export interface UnixHttpClient {
  /** Sends a request; resolves with the answer's head, the body streams. */
  request(req: UnixHttpRequest): Promise<UnixHttpResponse>;
  /** Ends the client (requests in flight are not affected). */
  close(): void;
}

/** One accepted byte-stream connection (e.g. on a unix socket). */
export interface StreamConn {
  /** Bytes from the peer; ends when the peer closes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** Closes both directions; safe to call twice. */
  close(): void;
}

/** A raw stream listener on a unix socket. */
export interface UnixListener {
  /** The socket path. */
  readonly path: string;
  /** Yields connections as peers connect; ends once closed. */
  accept(): AsyncIterable<StreamConn>;
  /** Stops listening and removes the socket file; safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@linkcode Net.listenUnix}. */
export interface ListenUnixOptions {
  /** Aborting closes the listener. */
  signal?: AbortSignal;
  /** Permission bits of the socket file; default `0o600`. */
  mode?: number;
}

/** Network access. */
export interface Net {
  /** The web `fetch`. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Serves HTTP on a unix socket; resolves once it listens. */
  serveUnix(
    path: string,
    handler: HttpHandler,
    options?: ServeUnixOptions,
  ): Promise<UnixServer>;
  /** A client that speaks HTTP over the unix socket at `path`. */
  unixHttpClient(path: string): UnixHttpClient;
  /** Listens for raw stream connections on a unix socket; resolves once it listens. */
  listenUnix(path: string, options?: ListenUnixOptions): Promise<UnixListener>;
}

/** The signals that ask the process to stop. */
export type ShutdownSignal = "SIGINT" | "SIGTERM";

/** Process signals. */
export interface Signals {
  /** Calls `handler` on SIGINT/SIGTERM until the returned function is called. */
  onShutdown(handler: (signal: ShutdownSignal) => void): () => void;
}
