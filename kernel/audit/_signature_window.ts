/**
 * Private: checks signatures in batches, a few batches in flight, and
 * reports the first failure in chain order.
 *
 * Without a pool the checks use WebCrypto from this thread (Deno runs each
 * call on a blocking thread pool, so a few hundred in flight use every
 * core), batched so that the walk pays one await per batch instead of one
 * per entry. With an {@linkcode AuditVerifyPool} the batches run on worker
 * threads while this thread keeps reading, parsing and hashing entries.
 *
 * The first signature of each distinct key is always checked here with
 * `kernel/crypto`'s `verify()`, which also refuses weak (small-order or
 * non-canonical) keys; a weak key therefore fails at its first entry, before
 * any later entry it signed could count as good. Later checks of the key
 * reuse one imported `CryptoKey`.
 *
 * @module
 */
import { verify } from "../crypto/ed25519.ts";
import type { SignatureJob } from "./_chain_checker.ts";
import type { AuditVerifyPool } from "./verify_pool.ts";
import type { AuditIssue } from "./verify_result.ts";

interface Dispatched {
  readonly jobs: readonly SignatureJob[];
  readonly ok: Promise<Uint8Array>;
}

/** Options of {@linkcode SignatureWindow}. */
export interface SignatureWindowOptions {
  /** Jobs per batch. */
  readonly batchSize: number;
  /** Batches in flight before the oldest is awaited. */
  readonly inFlight: number;
  /** Worker pool; checks run on this thread without one. */
  readonly pool?: AuditVerifyPool;
}

/** A bounded window of signature checks, settled in order. */
export class SignatureWindow {
  #options: SignatureWindowOptions;
  #batch: SignatureJob[] = [];
  #queue: Dispatched[] = [];
  #keys = new Map<string, Promise<CryptoKey>>();
  #verified = 0;

  /**
   * @param options Batch size, batches in flight, pool.
   * @throws {RangeError} When a size is not a positive integer.
   */
  constructor(options: SignatureWindowOptions) {
    for (const n of [options.batchSize, options.inFlight]) {
      if (!Number.isSafeInteger(n) || n < 1) {
        throw new RangeError(
          `Cannot verify with batch size or window ${n}: expected a positive integer`,
        );
      }
    }
    this.#options = options;
  }

  /** Entries whose signature was checked and good, in order. */
  get verified(): number {
    return this.#verified;
  }

  /**
   * Queues a check; may dispatch a batch and settle the oldest one.
   *
   * @param job The signature to check.
   * @returns `undefined` when nothing needed settling (no await needed), or a
   * promise of the first failure settled so far.
   */
  push(job: SignatureJob): Promise<AuditIssue | undefined> | undefined {
    if (!this.#keys.has(job.keyId)) {
      this.#dispatch();
      this.#keys.set(job.keyId, importKey(job.publicKey));
      this.#queue.push({ jobs: [job], ok: strict(job) });
    } else {
      this.#batch.push(job);
      if (this.#batch.length >= this.#options.batchSize) this.#dispatch();
    }
    if (this.#queue.length <= this.#options.inFlight) return undefined;
    return this.#settleOldest();
  }

  /**
   * Settles every queued check, in order.
   *
   * @returns The first failure, if any.
   */
  async drain(): Promise<AuditIssue | undefined> {
    this.#dispatch();
    while (this.#queue.length > 0) {
      const issue = await this.#settleOldest();
      if (issue !== undefined) return issue;
    }
    return undefined;
  }

  #dispatch(): void {
    if (this.#batch.length === 0) return;
    const jobs = this.#batch;
    this.#batch = [];
    const pool = this.#options.pool;
    this.#queue.push({
      jobs,
      ok: pool ? pool.verify(jobs) : this.#inThread(jobs),
    });
  }

  async #inThread(jobs: readonly SignatureJob[]): Promise<Uint8Array> {
    const results = await Promise.all(jobs.map(async (j) => {
      const key = await this.#keys.get(j.keyId)!;
      return crypto.subtle.verify(
        "Ed25519",
        key,
        j.signature as Uint8Array<ArrayBuffer>,
        j.digest as Uint8Array<ArrayBuffer>,
      );
    }));
    return Uint8Array.from(results, (ok) => (ok ? 1 : 0));
  }

  async #settleOldest(): Promise<AuditIssue | undefined> {
    const next = this.#queue.shift();
    if (next === undefined) return undefined;
    let ok: Uint8Array;
    try {
      ok = await next.ok;
    } catch (err) {
      await this.abandon();
      throw err;
    }
    const bad = ok.indexOf(0);
    if (bad < 0 && ok.length === next.jobs.length) {
      for (const j of next.jobs) this.#verified += j.covers;
      return undefined;
    }
    await this.abandon();
    const at = bad < 0 ? ok.length : bad;
    for (let i = 0; i < at; i++) this.#verified += next.jobs[i]!.covers;
    const job = next.jobs[at]!;
    const covered = job.covers === 1
      ? ""
      : ` (it seals entries ${job.seq} to ${job.signedSeq})`;
    return {
      seq: job.signedSeq,
      id: job.signedId,
      code: "SIGNATURE_INVALID",
      reason:
        `The signature of entry ${job.signedSeq} does not verify with key ${job.keyId}${covered}`,
    };
  }

  /**
   * Waits out every check still in flight without reporting them (after a
   * failure, or when the walk stops early). Idempotent.
   *
   * @returns When nothing is in flight.
   */
  async abandon(): Promise<void> {
    const rest = this.#queue;
    this.#queue = [];
    this.#batch = [];
    // silent-ok: results after the first failure are not needed.
    await Promise.allSettled(rest.map((d) => d.ok));
  }
}

function importKey(publicKey: Uint8Array): Promise<CryptoKey> {
  const key = crypto.subtle.importKey(
    "raw",
    publicKey.slice(),
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  // silent-ok: a failed import rejects every later check that awaits it.
  key.catch(() => {});
  return key;
}

async function strict(job: SignatureJob): Promise<Uint8Array> {
  const ok = await verify(job.publicKey, job.digest, job.signature);
  return Uint8Array.of(ok ? 1 : 0);
}
