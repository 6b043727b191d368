/**
 * The kernel's foundation: the one error class, branded ids, the host ports,
 * abort helpers, RFC 8785 canonical JSON and the one glob matcher. Everything
 * else in the kernel builds on these and they import nothing above them.
 *
 * Security model: `canonicalize()` gives one byte-exact JSON text per value,
 * so hashes and signatures never depend on key order or number spelling; it
 * rejects what it cannot represent instead of guessing. `compileGlob()` never
 * matches a subject with a `..` segment or a NUL, and rejects patterns with
 * either, so a path rule cannot be walked out of by traversal.
 *
 * @example Canonical bytes and a resource pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalize, compileGlob, KernelError } from "./mod.ts";
 * assert.equal(canonicalize({ b: 2, a: 1 }), '{"a":1,"b":2}');
 * assert.ok(compileGlob("file:///ws/**").matches("file:///ws/a.txt"));
 * assert.throws(() => compileGlob("a/../b"), (e) => KernelError.is(e, "GLOB_INVALID"));
 * ```
 *
 * @module
 */
export { KernelError, redactPaths, toWireError } from "./errors.ts";
export type { ErrorCode, KernelErrorOptions, WireError } from "./errors.ts";
export {
  DEFAULT_PRINCIPAL,
  newAuditEntryId,
  newSessionId,
  newTokenId,
  parseAuditEntryId,
  parseCapsuleId,
  parsePrincipalId,
  parseSessionId,
  parseTokenId,
  uuidV4,
} from "./ids.ts";
export type {
  AuditEntryId,
  Brand,
  CapsuleId,
  PrincipalId,
  SessionId,
  TokenId,
} from "./ids.ts";
export { LOG_LEVEL_ORDER } from "./ports.ts";
export type {
  CheckedRead,
  CheckedReadOptions,
  ChildProcess,
  Clock,
  DirEntry,
  Env,
  FetchFn,
  FileInfo,
  FileSystem,
  FsCallOptions,
  HttpHandler,
  ListenUnixOptions,
  LogFields,
  Logger,
  LogLevel,
  Net,
  OutputOptions,
  ProcessOutput,
  ProcessSignal,
  ProcessStatus,
  Random,
  ServeUnixOptions,
  ShutdownSignal,
  Signals,
  Spawner,
  SpawnOptions,
  StdioMode,
  StreamConn,
  UnixHttpClient,
  UnixListener,
  UnixServer,
} from "./ports.ts";
export { throwIfAborted } from "./abort.ts";
export { canonicalBytes, canonicalize } from "./canonical_json.ts";
export { compileGlob, isGlobPattern } from "./glob.ts";
export type { Glob, GlobOptions } from "./glob.ts";
