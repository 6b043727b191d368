/**
 * {@linkcode AuditVerifyPool}: Ed25519 verification on worker threads.
 *
 * A chain walk reads, parses and hashes entries on the calling thread; the
 * pool checks the signatures on worker threads meanwhile. The workers use
 * `node:crypto`'s synchronous Ed25519 verify with one `KeyObject` per key,
 * which on Deno 2.9 takes about half the CPU of a WebCrypto call (each of
 * those hops to a blocking thread pool): ~21k checks/s per worker thread.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { VERIFY_WORKER_SOURCE } from "./_verify_worker_source.ts";

/** One signature to check. */
export interface SignatureCheck {
  /** Key id of `publicKey` (keys are sent to the workers once per id). */
  readonly keyId: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The signed message (the 32 hash bytes of an entry). */
  readonly digest: Uint8Array;
  /** The 64-byte signature. */
  readonly signature: Uint8Array;
}

/** Options of {@linkcode AuditVerifyPool}. */
export interface AuditVerifyPoolOptions {
  /** Worker threads (default: the number of CPU cores, at most 8). */
  readonly workers?: number;
}

interface Slot {
  readonly worker: Worker;
  load: number;
}

interface Waiting {
  readonly slot: Slot;
  readonly size: number;
  readonly resolve: (ok: Uint8Array) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * A pool of verification workers. Create one per process (or per long
 * verification) and close it when done: live workers keep the process alive.
 *
 * Security model: workers only answer "verifies / does not verify" for the
 * bytes they are sent; every other check, and the decision which key is
 * trusted, stays on the caller's thread. A worker failure rejects every
 * pending batch (`INTERNAL`) instead of reporting success.
 *
 * @example Check two signatures
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuditVerifyPool } from "./verify_pool.ts";
 * import { generateKeyPair } from "../crypto/key_pair.ts";
 * import { sign } from "../crypto/ed25519.ts";
 * import { SeededRandom } from "../testing/mod.ts";
 *
 * const pair = generateKeyPair(new SeededRandom(7));
 * const digest = new Uint8Array(32).fill(1);
 * const signature = await sign(pair, digest);
 * using pool = new AuditVerifyPool({ workers: 1 });
 * const job = { keyId: pair.keyId, publicKey: pair.publicKey, digest, signature };
 * const ok = await pool.verify([job, { ...job, digest: new Uint8Array(32) }]);
 * assert.deepEqual([...ok], [1, 0]);
 * ```
 */
export class AuditVerifyPool implements Disposable {
  #slots: Slot[] = [];
  #keys = new Map<string, number>();
  #waiting = new Map<number, Waiting>();
  #nextBatch = 0;
  #failure: KernelError | undefined;

  /**
   * Starts the workers.
   *
   * @param options How many workers.
   * @throws {RangeError} When `workers` is not an integer from 1 to 64.
   */
  constructor(options: AuditVerifyPoolOptions = {}) {
    const n = options.workers ??
      Math.min(8, Math.max(1, navigator.hardwareConcurrency || 1));
    if (!Number.isSafeInteger(n) || n < 1 || n > 64) {
      throw new RangeError(
        `Cannot start ${n} verify workers: expected an integer from 1 to 64`,
      );
    }
    const url = URL.createObjectURL(
      new Blob([VERIFY_WORKER_SOURCE], { type: "text/javascript" }),
    );
    try {
      for (let i = 0; i < n; i++) this.#slots.push(this.#start(url));
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /**
   * Checks a batch of signatures on the least busy worker.
   *
   * @param checks The signatures.
   * @returns One byte per check: `1` verifies, `0` does not.
   * @throws {KernelError} `INTERNAL` when the pool is closed or a worker failed.
   */
  verify(checks: readonly SignatureCheck[]): Promise<Uint8Array> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const slot = this.#slots.reduce((a, b) => (b.load < a.load ? b : a));
    const keys = new Uint32Array(checks.length);
    const data = new Uint8Array(checks.length * 96);
    checks.forEach((c, i) => {
      keys[i] = this.#keyIndex(c);
      data.set(c.digest, i * 96);
      data.set(c.signature, i * 96 + 32);
    });
    const batch = this.#nextBatch++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(batch, {
        slot,
        size: checks.length,
        resolve,
        reject,
      });
      slot.load += checks.length;
      slot.worker.postMessage({ type: "batch", batch, keys, data }, [
        keys.buffer,
        data.buffer,
      ]);
    });
  }

  /** Stops the workers; pending batches reject with `INTERNAL`. Idempotent. */
  close(): void {
    this.#fail(
      new KernelError("INTERNAL", "Cannot verify: the verify pool is closed"),
    );
  }

  /** Same as {@linkcode AuditVerifyPool.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #keyIndex(check: SignatureCheck): number {
    let index = this.#keys.get(check.keyId);
    if (index === undefined) {
      index = this.#keys.size;
      this.#keys.set(check.keyId, index);
      const key = check.publicKey.slice();
      for (const s of this.#slots) {
        s.worker.postMessage({ type: "key", index, key });
      }
    }
    return index;
  }

  #start(url: string): Slot {
    // The worker only checks signatures: it gets no Deno permission of its
    // own (no file, network, env, process or FFI access).
    const worker = new Worker(url, {
      type: "module",
      deno: { permissions: "none" },
    });
    const slot: Slot = { worker, load: 0 };
    worker.onmessage = (event: MessageEvent) => {
      const { batch, ok } = event.data as { batch: number; ok: Uint8Array };
      const w = this.#waiting.get(batch);
      if (w === undefined) return;
      this.#waiting.delete(batch);
      w.slot.load -= w.size;
      w.resolve(ok);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(
        new KernelError(
          "INTERNAL",
          `Cannot verify: a verify worker failed: ${event.message}`,
        ),
      );
    };
    return slot;
  }

  #fail(err: KernelError): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    for (const s of this.#slots) s.worker.terminate();
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}
