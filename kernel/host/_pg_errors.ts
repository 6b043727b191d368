/**
 * Private: maps what the PostgreSQL client or server threw to
 * `STORE_UNAVAILABLE`.
 *
 * Security model: the message names the server's SQLSTATE (and its message,
 * which never holds a password; any echo of the secret and any path is
 * removed) or the client's error code; the original error is never kept as
 * `cause`, since a client error may carry connection options.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * Maps a client or server error to `STORE_UNAVAILABLE`, naming only its code:
 * never the URL, the password, a host path or the original error as `cause`.
 */
export function pgError(
  err: unknown,
  what: string,
  secret: string | undefined,
  outcome?: string,
): KernelError {
  if (err instanceof KernelError) return err;
  const state = sqlState(err);
  const code = (err as { code?: unknown } | null)?.code;
  const why = state !== undefined
    ? `the server answered SQLSTATE ${state}${serverMessage(err, secret)}`
    : typeof code === "string"
    ? `the connection failed (${code})`
    : "the client failed";
  return new KernelError(
    "STORE_UNAVAILABLE",
    `Cannot ${what} as ${why}${outcome ? `; ${outcome}` : ""}`,
    { data: { backend: "postgres", ...(outcome ? { outcome } : {}) } },
  );
}

export function sqlState(err: unknown): string | undefined {
  if (
    err instanceof Error && err.name === "PostgresError" &&
    typeof (err as { code?: unknown }).code === "string"
  ) {
    return (err as unknown as { code: string }).code;
  }
  return undefined;
}

/** The server's message (it never holds a password), with any echo of it removed. */
function serverMessage(err: unknown, secret: string | undefined): string {
  const text = err instanceof Error ? err.message : "";
  const safe = secret ? text.split(secret).join("***") : text;
  return safe ? ` (${safe.replace(/\/[^\s"']+/g, "<path>")})` : "";
}
