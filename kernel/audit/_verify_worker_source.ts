/**
 * Private: the source of the signature-verification worker, run from a
 * `blob:` URL so that starting it needs no file or network permission and
 * works the same in a compiled binary.
 *
 * It checks signatures with `node:crypto`'s synchronous Ed25519 verify and a
 * `KeyObject` made once per key. Measured on Deno 2.9 (2 cores): ~21k
 * checks/s per thread, about twice the CPU efficiency of WebCrypto, whose
 * every call hops to a blocking thread pool. Verdicts match WebCrypto's
 * (both refuse a non-canonical `S`); weak keys are refused by the caller,
 * which checks every key's first signature with `kernel/crypto`'s `verify()`.
 *
 * Protocol (messages are processed in order):
 *
 * - `{type: "key", index, key}`: remember a 32-byte Ed25519 public key under
 *   a small integer `index`.
 * - `{type: "batch", batch, keys, data}`: `keys` is a `Uint32Array` of key
 *   indexes, `data` holds per job 32 digest bytes then 64 signature bytes.
 *   The worker answers `{batch, ok}` with one byte per job, `1` when the
 *   signature verifies.
 *
 * @module
 */

/** The worker's JavaScript source. */
export const VERIFY_WORKER_SOURCE = `
import { createPublicKey, verify } from "node:crypto";
const SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
const JOB = 96;
const keys = new Map();
function keyObject(raw) {
  try {
    const der = new Uint8Array(44);
    der.set(SPKI_PREFIX);
    der.set(raw, 12);
    return createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    return undefined;
  }
}
function check(key, data, at) {
  if (key === undefined) return 0;
  try {
    return verify(null, data.subarray(at, at + 32), key, data.subarray(at + 32, at + JOB)) ? 1 : 0;
  } catch {
    return 0;
  }
}
self.onmessage = (event) => {
  const m = event.data;
  if (m.type === "key") {
    keys.set(m.index, keyObject(m.key));
    return;
  }
  const n = m.keys.length;
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) ok[i] = check(keys.get(m.keys[i]), m.data, i * JOB);
  self.postMessage({ batch: m.batch, ok }, [ok.buffer]);
};
`;
