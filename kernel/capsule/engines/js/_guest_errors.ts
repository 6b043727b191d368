/**
 * How the js engine reports guest failures: a guest exception is read into a
 * short text (its `name: message`, never its stack), and every way a call can
 * end badly maps to one kernel error code.
 *
 * @module
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { KernelError } from "../../../core/errors.ts";
import type { EngineLimits } from "../../engine.ts";
import { DEFAULT_WAIT_TIMEOUT_MS } from "../../call_clock.ts";

/** Why the engine stopped a guest. */
export type StopReason = "timeout" | "wait_timeout" | "memory" | "aborted";

/** How a call ended badly: a stop, a guest exception, or a crashed instance. */
export type FailureKind = StopReason | "threw" | "crash";

const MAX_DETAIL = 500;

/**
 * Reads a guest exception as `Name: message` (at most 500 characters). Reading
 * `name`/`message` may run guest getters; they run under the call's limits.
 *
 * @param vm The context the exception belongs to.
 * @param error The exception handle (not disposed here).
 * @returns A short description.
 */
export function describeGuestError(
  vm: QuickJSContext,
  error: QuickJSHandle,
): string {
  const kind = vm.typeof(error);
  if (kind === "string") return clip(vm.getString(error));
  if (kind === "number") return String(vm.getNumber(error));
  if (kind !== "object") return `a thrown ${kind}`;
  const name = readString(vm, error, "name");
  const message = readString(vm, error, "message");
  if (name === undefined && message === undefined) return "a thrown object";
  return clip(`${name ?? "Error"}: ${message ?? ""}`);
}

const GUEST_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * The `code` of a guest exception when it is an error code's shape
 * (`UPPER_SNAKE`, e.g. `TURN_MAX_ITERATIONS` or a `HostCallError`'s code), so
 * a caller can tell failures apart without parsing the message. It is the
 * guest's word: reported as `data.guest_code` of a `CAPSULE_FAILED`, never
 * as the kernel's own code.
 *
 * @param vm The context the exception belongs to.
 * @param error The exception handle (not disposed here).
 * @returns The code, or `undefined`.
 */
export function guestErrorCode(
  vm: QuickJSContext,
  error: QuickJSHandle,
): string | undefined {
  if (vm.typeof(error) !== "object") return undefined;
  const code = readString(vm, error, "code");
  return code !== undefined && GUEST_CODE.test(code) ? code : undefined;
}

function readString(
  vm: QuickJSContext,
  obj: QuickJSHandle,
  key: string,
): string | undefined {
  const result = vm.getProp(obj, key);
  try {
    return vm.typeof(result) === "string" ? vm.getString(result) : undefined;
  } finally {
    result.dispose();
  }
}

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/** What {@linkcode stopError} needs to know about the instance. */
export interface FailingGuest {
  readonly capsule: string;
  readonly limits: EngineLimits;
  readonly memory: WebAssembly.Memory;
  /** The running-time deadline of what was running (a load may differ). */
  readonly deadlineMs?: number;
}

const MIB = 1024 * 1024;

/**
 * Builds the `KernelError` for a failed call or load.
 *
 * @param guest The instance.
 * @param kind How it ended.
 * @param options What was running (`action 'x'`, `module evaluation`), guest
 *   detail, the guest error's code (see {@linkcode guestErrorCode}) and the
 *   host-side cause.
 * @returns `CAPSULE_TIMEOUT`, `CAPSULE_MEMORY`, `ABORTED` or `CAPSULE_FAILED`.
 */
export function stopError(
  guest: FailingGuest,
  kind: FailureKind,
  options: { what: string; detail?: string; cause?: unknown; code?: string },
): KernelError {
  const what = options.what;
  const who = `Capsule '${guest.capsule}' ${what}`;
  const data = {
    capsule: guest.capsule,
    reason: kind,
    ...(kind === "threw" && options.code ? { guest_code: options.code } : {}),
  };
  const cause = options.cause === undefined ? {} : { cause: options.cause };
  switch (kind) {
    case "timeout":
      return new KernelError(
        "CAPSULE_TIMEOUT",
        `${who} ran past its deadline of ${
          guest.deadlineMs ?? guest.limits.timeoutMs
        } ms of running time and was stopped`,
        { data, ...cause },
      );
    case "wait_timeout":
      return new KernelError(
        "CAPSULE_TIMEOUT",
        `${who} waited longer than ${
          guest.limits.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
        } ms in all for the kernel (host calls) and was stopped`,
        { data, ...cause },
      );
    case "memory":
      return new KernelError(
        "CAPSULE_MEMORY",
        `${who} was stopped: its memory (${
          (guest.memory.buffer.byteLength / MIB).toFixed(1)
        } MiB) reached the cap of ${
          (guest.limits.memoryBytes / MIB).toFixed(1)
        } MiB; the instance is recycled`,
        { data, ...cause },
      );
    case "aborted":
      return new KernelError("ABORTED", `${who} was cancelled`, {
        data,
        ...cause,
      });
    case "crash":
      return new KernelError(
        "CAPSULE_FAILED",
        `${who} crashed the interpreter (${
          options.detail ?? "unknown"
        }); the instance is recycled`,
        { data, ...cause },
      );
    case "threw":
      return new KernelError(
        "CAPSULE_FAILED",
        `${who} threw ${options.detail ?? "an error"}`,
        { data, ...cause },
      );
  }
}
