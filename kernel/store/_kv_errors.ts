/**
 * Private: maps errors raised by a Deno KV database to kernel errors.
 *
 * Our own checks run first, so these mappings are a safety net for limits
 * the engine enforces that we did not anticipate; they keep the engine's
 * message and the original error as `cause`.
 *
 * @module
 */
import { type ErrorCode, KernelError } from "../core/errors.ts";

const RULES: readonly (readonly [RegExp, ErrorCode])[] = [
  [/value too large/i, "STORE_VALUE_TOO_LARGE"],
  [
    /key too large|key cannot be empty|keyspace|invalid key/i,
    "STORE_KEY_INVALID",
  ],
  [
    /too many (mutations|checks|ranges)|total (mutation|key) size/i,
    "STORE_ATOMIC_TOO_LARGE",
  ],
];

/**
 * Converts anything a KV call threw into a {@linkcode KernelError}.
 *
 * - a `KernelError` is returned as is;
 * - a closed database (`BadResource`) or "database is locked" ⇒ `STORE_UNAVAILABLE`;
 * - the engine's size and limit errors ⇒ the matching `STORE_*` code;
 * - anything else (I/O failure, disk full) ⇒ `STORE_UNAVAILABLE`.
 *
 * @param err The thrown value.
 * @param what What was being done, e.g. `get ["ns","k"]`.
 * @returns The error to throw.
 */
export function kvError(err: unknown, what: string): KernelError {
  if (err instanceof KernelError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isClosedError(err)) {
    return new KernelError(
      "STORE_UNAVAILABLE",
      `Cannot ${what} as the store is closed`,
      { cause: err },
    );
  }
  if (/database is locked/i.test(message)) {
    return new KernelError(
      "STORE_UNAVAILABLE",
      `Cannot ${what} as another process holds the store; only the daemon may open it`,
      { cause: err },
    );
  }
  for (const [pattern, code] of RULES) {
    if (pattern.test(message)) {
      return new KernelError(code, `Cannot ${what}: ${message}`, {
        cause: err,
      });
    }
  }
  return new KernelError(
    "STORE_UNAVAILABLE",
    `Cannot ${what} as the store failed: ${message}`,
    {
      cause: err,
    },
  );
}

/**
 * Tells whether `err` is the host's "bad resource" error of a closed database.
 *
 * @param err The thrown value.
 * @returns `true` for a closed-resource error.
 */
export function isClosedError(err: unknown): boolean {
  return err instanceof Error && err.name === "BadResource";
}
