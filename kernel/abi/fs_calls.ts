/**
 * File host calls: each maps the guest path to a `capsule_file_access` action,
 * passes the gate, then goes to the session's guest file system (the overlay).
 *
 * @module
 */
import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import { KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import type { Action } from "../security/action.ts";
import { hostPathOf } from "./guest_path.ts";
import { Params } from "./_params.ts";
import type { HostCall } from "./host_call.ts";

function access(
  p: Params,
  fn: string,
  mode: "read" | "write" | "delete",
  call: Parameters<HostCall>[1],
) {
  const guest = p.string("path", HOST_LIMITS.path);
  const action: Action = {
    type: "capsule_file_access",
    capsule_id: call.caller.capsule,
    path: hostPathOf(guest, call.caller),
    mode,
  };
  return {
    guest,
    action,
    run: <T>(effect: () => Promise<T>) => call.gated(action, effect, fn),
  };
}

/** `fs_read`: read a file (UTF-8 or base64). */
export const fsRead: HostCall = async (payload, call) => {
  const p = new Params("fs_read", payload);
  const encoding = p.oneOf("encoding", ["utf8", "base64"] as const, "utf8");
  const { guest, run } = access(p, "fs_read", "read", call);
  const bytes = await run(() =>
    call.deps.fs(call.caller).read(guest, { signal: call.signal })
  );
  if (bytes.length > HOST_LIMITS.payload) {
    throw new KernelError(
      "ABI_PAYLOAD_TOO_LARGE",
      `File is larger than ${HOST_LIMITS.payload} bytes`,
    );
  }
  if (encoding === "base64") return { content: encodeBase64(bytes) };
  try {
    return { content: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    throw new KernelError(
      "INVALID_INPUT",
      "File is not UTF-8 text; read it with encoding 'base64'",
    );
  }
};

/** `fs_write`: create or truncate a file in the overlay. */
export const fsWrite: HostCall = async (payload, call) => {
  const p = new Params("fs_write", payload);
  const encoding = p.oneOf("encoding", ["utf8", "base64"] as const, "utf8");
  const content = p.string("content");
  const data = encoding === "base64"
    ? decodeBase64(content)
    : new TextEncoder().encode(content);
  const { guest, run } = access(p, "fs_write", "write", call);
  await run(() =>
    call.deps.fs(call.caller).write(guest, data, { signal: call.signal })
  );
  return { ok: true };
};

/** `fs_exists`. */
export const fsExists: HostCall = async (payload, call) => {
  const { guest, run } = access(
    new Params("fs_exists", payload),
    "fs_exists",
    "read",
    call,
  );
  return { exists: await run(() => call.deps.fs(call.caller).exists(guest)) };
};

/** `fs_readdir`. */
export const fsReadDir: HostCall = async (payload, call) => {
  const { guest, run } = access(
    new Params("fs_readdir", payload),
    "fs_readdir",
    "read",
    call,
  );
  return {
    entries: await run(() => call.deps.fs(call.caller).readDir(guest)),
  } as unknown as JsonValue;
};

/** `fs_stat`. */
export const fsStat: HostCall = async (payload, call) => {
  const { guest, run } = access(
    new Params("fs_stat", payload),
    "fs_stat",
    "read",
    call,
  );
  return await run(() =>
    call.deps.fs(call.caller).stat(guest)
  ) as unknown as JsonValue;
};

/** `fs_mkdir`. */
export const fsMkdir: HostCall = async (payload, call) => {
  const { guest, run } = access(
    new Params("fs_mkdir", payload),
    "fs_mkdir",
    "write",
    call,
  );
  await run(() => call.deps.fs(call.caller).mkdir(guest));
  return { ok: true };
};

/** `fs_unlink`: delete (a whiteout for workspace files). */
export const fsUnlink: HostCall = async (payload, call) => {
  const { guest, run } = access(
    new Params("fs_unlink", payload),
    "fs_unlink",
    "delete",
    call,
  );
  await run(() => call.deps.fs(call.caller).remove(guest));
  return { ok: true };
};
