/**
 * KV host calls, scoped to `{principal}:capsule:{name}`: a capsule can only ever
 * reach its own namespace (the namespace is a separate key part, so no key can
 * climb out of it). KV is capsule-private state, not a side effect on the
 * outside world, so it does not pass the gate.
 *
 * @module
 */
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import type { JsonValue, StoreKey } from "../store/store.ts";
import { Params } from "./_params.ts";
import type { CallState, HostCall } from "./host_call.ts";

/**
 * The store namespace of a capsule for a principal.
 *
 * @param call The call.
 * @returns `{principal}:capsule:{name}`.
 */
export function kvNamespace(call: Pick<CallState, "caller">): string {
  return `${call.caller.principal}:capsule:${call.caller.capsule}`;
}

function key(call: CallState, k: string): StoreKey {
  return [kvNamespace(call), k];
}

/** `kv_get`. */
export const kvGet: HostCall = async (payload, call) => {
  const k = new Params("kv_get", payload).string("key", HOST_LIMITS.key);
  const entry = await call.deps.store.get(key(call, k));
  return {
    value: entry === null
      ? null
      : entry.value instanceof Uint8Array
      ? null
      : entry.value,
  };
};

/** `kv_set`. */
export const kvSet: HostCall = async (payload, call) => {
  const p = new Params("kv_set", payload);
  await call.deps.store.set(
    key(call, p.string("key", HOST_LIMITS.key)),
    p.json("value"),
  );
  return { ok: true };
};

/** `kv_delete`. */
export const kvDelete: HostCall = async (payload, call) => {
  await call.deps.store.delete(
    key(call, new Params("kv_delete", payload).string("key", HOST_LIMITS.key)),
  );
  return { ok: true };
};

/** `kv_list_keys`: keys of the capsule's namespace starting with `prefix`. */
export const kvListKeys: HostCall = async (payload, call) => {
  const prefix = new Params("kv_list_keys", payload).string(
    "prefix",
    HOST_LIMITS.key,
  );
  const keys: string[] = [];
  for await (
    const e of call.deps.store.list([kvNamespace(call)], {
      signal: call.signal,
    })
  ) {
    const k = e.key[1];
    if (typeof k === "string" && k.startsWith(prefix)) keys.push(k);
    if (keys.length >= 10_000) break;
  }
  return { keys } as unknown as JsonValue;
};
