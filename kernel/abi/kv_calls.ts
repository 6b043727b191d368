/**
 * KV host calls over the capsule's own namespace (`capsule_kv.ts`):
 * capsule-private state, not a side effect on the outside world, so they do
 * not pass the gate — they are on the reviewed pure list, bound to the
 * namespace and its quota (`ABI_QUOTA_EXCEEDED`).
 *
 * @module
 */
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import type { JsonValue } from "../store/store.ts";
import { Params } from "./_params.ts";
import type { HostCall } from "./host_call.ts";

/** `kv_get`. */
export const kvGet: HostCall = async (payload, call) => {
  const k = new Params("kv_get", payload).string("key", HOST_LIMITS.key);
  return { value: await call.pure.kv.get(k) };
};

/** `kv_set`. */
export const kvSet: HostCall = async (payload, call) => {
  const p = new Params("kv_set", payload);
  await call.pure.kv.set(p.string("key", HOST_LIMITS.key), p.json("value"));
  return { ok: true };
};

/** `kv_delete`. */
export const kvDelete: HostCall = async (payload, call) => {
  await call.pure.kv.delete(
    new Params("kv_delete", payload).string("key", HOST_LIMITS.key),
  );
  return { ok: true };
};

/** `kv_list_keys`: keys of the capsule's namespace starting with `prefix`. */
export const kvListKeys: HostCall = async (payload, call) => {
  const prefix = new Params("kv_list_keys", payload).string(
    "prefix",
    HOST_LIMITS.key,
  );
  const keys = await call.pure.kv.listKeys(prefix, { signal: call.signal });
  return { keys } as unknown as JsonValue;
};
