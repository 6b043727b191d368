/**
 * Branded identifiers. A branded id can only be made by its parser or by a
 * minting function, so a raw string never stands in for an id by accident.
 *
 * @module
 */
import { KernelError } from "./errors.ts";
import type { Random } from "./ports.ts";

declare const brand: unique symbol;
/** A string that has passed the grammar check of `B`. */
export type Brand<B extends string> = string & { readonly [brand]: B };

/** A user or agent identity: 1–64 chars of `[A-Za-z0-9_-]`. */
export type PrincipalId = Brand<"PrincipalId">;
/** A session: lower-case hyphenated UUID. */
export type SessionId = Brand<"SessionId">;
/** A capsule name: 1–64 chars of `[a-z0-9-]`, not starting or ending with `-`. */
export type CapsuleId = Brand<"CapsuleId">;
/** A capability token id: lower-case hyphenated UUID. */
export type TokenId = Brand<"TokenId">;
/** An audit entry id: lower-case hyphenated UUID. */
export type AuditEntryId = Brand<"AuditEntryId">;

const PRINCIPAL = /^[A-Za-z0-9_-]{1,64}$/;
const CAPSULE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The principal used when none is given. */
export const DEFAULT_PRINCIPAL: PrincipalId = "default" as PrincipalId;

function check<T extends string>(
  raw: unknown,
  re: RegExp,
  kind: string,
  rule: string,
): T {
  if (typeof raw !== "string" || !re.test(raw)) {
    const shown = typeof raw === "string"
      ? JSON.stringify(raw.slice(0, 80))
      : typeof raw;
    throw new KernelError(
      "INVALID_ID",
      `Invalid ${kind} ${shown}: expected ${rule}`,
      {
        data: { kind },
      },
    );
  }
  return raw as T;
}

/**
 * Parses a principal id.
 *
 * @param raw Untrusted input.
 * @returns The branded id.
 * @throws {KernelError} `INVALID_ID` when the grammar does not match.
 *
 * @example Parse a principal
 * ```ts
 * import { parsePrincipalId } from "./ids.ts";
 * const p = parsePrincipalId("alice");
 * ```
 */
export function parsePrincipalId(raw: unknown): PrincipalId {
  return check(
    raw,
    PRINCIPAL,
    "principal id",
    "1-64 characters of [A-Za-z0-9_-]",
  );
}

/**
 * Parses a capsule id (the `[package] name` of a capsule).
 *
 * @param raw Untrusted input.
 * @returns The branded id.
 * @throws {KernelError} `INVALID_ID` when the grammar does not match.
 */
export function parseCapsuleId(raw: unknown): CapsuleId {
  return check(
    raw,
    CAPSULE,
    "capsule id",
    "1-64 characters of [a-z0-9-], not starting or ending with '-'",
  );
}

/**
 * Parses a session id.
 *
 * @param raw Untrusted input.
 * @returns The branded id.
 * @throws {KernelError} `INVALID_ID` when it is not a lower-case UUID.
 */
export function parseSessionId(raw: unknown): SessionId {
  return check(raw, UUID, "session id", "a lower-case hyphenated UUID");
}

/**
 * Parses a capability token id.
 *
 * @param raw Untrusted input.
 * @returns The branded id.
 * @throws {KernelError} `INVALID_ID` when it is not a lower-case UUID.
 */
export function parseTokenId(raw: unknown): TokenId {
  return check(raw, UUID, "token id", "a lower-case hyphenated UUID");
}

/**
 * Parses an audit entry id.
 *
 * @param raw Untrusted input.
 * @returns The branded id.
 * @throws {KernelError} `INVALID_ID` when it is not a lower-case UUID.
 */
export function parseAuditEntryId(raw: unknown): AuditEntryId {
  return check(raw, UUID, "audit entry id", "a lower-case hyphenated UUID");
}

/** The two hex digits of every byte value. */
const HEX = Array.from(
  { length: 256 },
  (_, x) => x.toString(16).padStart(2, "0"),
);

/**
 * Makes a random RFC 4122 version-4 UUID from the given randomness.
 *
 * @param random The randomness port.
 * @returns A lower-case hyphenated UUID.
 */
export function uuidV4(random: Random): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  // One per host call and bus request: a lookup table, not 16 toString()s.
  let out = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-";
    out += HEX[b[i]!];
  }
  return out;
}

/**
 * Mints a new session id.
 *
 * @param random The randomness port.
 * @returns A fresh {@linkcode SessionId}.
 */
export function newSessionId(random: Random): SessionId {
  return uuidV4(random) as SessionId;
}

/**
 * Mints a new token id.
 *
 * @param random The randomness port.
 * @returns A fresh {@linkcode TokenId}.
 */
export function newTokenId(random: Random): TokenId {
  return uuidV4(random) as TokenId;
}

/**
 * Mints a new audit entry id.
 *
 * @param random The randomness port.
 * @returns A fresh {@linkcode AuditEntryId}.
 */
export function newAuditEntryId(random: Random): AuditEntryId {
  return uuidV4(random) as AuditEntryId;
}
