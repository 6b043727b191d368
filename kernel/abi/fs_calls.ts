/**
 * File host calls: the guest path is resolved once (the one mapper, in the
 * session VFS), the gate judges that exact location as a
 * `capsule_file_access` action, and the effect receives a file port bound to
 * the same resolved value (never the string again).
 *
 * @module
 */
import { decodeBase64, encodeBase64 } from "./_base64.ts";
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import { KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import { Params } from "./_params.ts";
import type { GrantedFile } from "./door.ts";
import type { CallState, HostCall } from "./host_call.ts";

/** One strict decoder for every read (a decode without `stream` keeps no state). */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

async function withFile<T>(
  p: Params,
  mode: "read" | "write" | "delete",
  call: CallState,
  effect: (file: GrantedFile) => Promise<T>,
): Promise<T> {
  const path = await call.resolvePath(p.string("path", HOST_LIMITS.path), mode);
  return await call.gated({ kind: "file", mode, path }, effect);
}

/** `fs_read`: read a file (UTF-8 or base64). */
export const fsRead: HostCall = async (payload, call) => {
  const p = new Params("fs_read", payload);
  const encoding = p.oneOf("encoding", ["utf8", "base64"] as const, "utf8");
  const bytes = await withFile(p, "read", call, (f) => f.read());
  if (bytes.length > HOST_LIMITS.payload) {
    throw new KernelError(
      "ABI_PAYLOAD_TOO_LARGE",
      `File is larger than ${HOST_LIMITS.payload} bytes`,
    );
  }
  if (encoding === "base64") return { content: encodeBase64(bytes) };
  try {
    return { content: UTF8.decode(bytes) };
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
  await withFile(p, "write", call, (f) => f.write(data));
  return { ok: true };
};

/** `fs_exists`. */
export const fsExists: HostCall = async (payload, call) => ({
  exists: await withFile(
    new Params("fs_exists", payload),
    "read",
    call,
    (f) => f.exists(),
  ),
});

/** `fs_readdir`. */
export const fsReadDir: HostCall = async (payload, call) => ({
  entries: await withFile(
    new Params("fs_readdir", payload),
    "read",
    call,
    (f) => f.readDir(),
  ),
} as unknown as JsonValue);

/** `fs_stat`. */
export const fsStat: HostCall = async (payload, call) =>
  await withFile(
    new Params("fs_stat", payload),
    "read",
    call,
    (f) => f.stat(),
  ) as unknown as JsonValue;

/** `fs_mkdir`. */
export const fsMkdir: HostCall = async (payload, call) => {
  await withFile(
    new Params("fs_mkdir", payload),
    "write",
    call,
    (f) => f.mkdir(),
  );
  return { ok: true };
};

/** `fs_unlink`: delete (a whiteout for workspace files). */
export const fsUnlink: HostCall = async (payload, call) => {
  await withFile(
    new Params("fs_unlink", payload),
    "delete",
    call,
    (f) => f.remove(),
  );
  return { ok: true };
};
