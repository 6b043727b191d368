/**
 * Key ids and the text form of public keys.
 *
 * A key id names an Ed25519 public key in audit entries, logs and the CLI. It
 * is the first 8 bytes of BLAKE3(public key) as 16 lower-case hex characters:
 * short enough to read, long enough (64 bits) that two runtime keys of one
 * installation never collide by accident. It is a name, not a proof: verifiers
 * always check signatures against the full pinned public key.
 *
 * Public keys travel as standard base64 (RFC 4648 §4, with padding: 44
 * characters for 32 bytes).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import type { Brand } from "../core/ids.ts";
import { checkPublicKeyLength } from "./_public_key_check.ts";
import { blake3 } from "./blake3.ts";

export { PUBLIC_KEY_LENGTH } from "./_public_key_check.ts";

/** A key id: 16 lower-case hex characters (first 8 bytes of BLAKE3(public key)). */
export type KeyId = Brand<"KeyId">;

const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Computes the key id of a public key.
 *
 * @param publicKey The 32-byte Ed25519 public key.
 * @returns The 16-character key id.
 * @throws {KernelError} `KEY_INVALID` when the key is not 32 bytes.
 *
 * @example Name a public key
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyId } from "./key_id.ts";
 * const id = keyId(new Uint8Array(32).fill(1));
 * assert.ok(id.length === 16);
 * ```
 */
export function keyId(publicKey: Uint8Array): KeyId {
  checkPublicKeyLength(publicKey);
  return blake3(publicKey).subarray(0, 8).toHex() as KeyId;
}

/**
 * Parses a key id from untrusted text.
 *
 * @param raw Untrusted input.
 * @returns The branded key id.
 * @throws {KernelError} `INVALID_ID` unless it is 16 lower-case hex characters.
 *
 * @example Parse a key id
 * ```ts
 * import { parseKeyId } from "./key_id.ts";
 * const id = parseKeyId("0123456789abcdef");
 * ```
 */
export function parseKeyId(raw: unknown): KeyId {
  if (typeof raw !== "string" || !KEY_ID.test(raw)) {
    const shown = typeof raw === "string"
      ? JSON.stringify(raw.slice(0, 80))
      : typeof raw;
    throw new KernelError(
      "INVALID_ID",
      `Invalid key id ${shown}: expected 16 lower-case hex characters`,
      { data: { kind: "key id" } },
    );
  }
  return raw as KeyId;
}

/**
 * Encodes a public key as standard base64.
 *
 * @param publicKey The 32-byte Ed25519 public key.
 * @returns 44 base64 characters.
 * @throws {KernelError} `KEY_INVALID` when the key is not 32 bytes.
 *
 * @example Round-trip a public key
 * ```ts
 * import assert from "node:assert/strict";
 * import { publicKeyFromBase64, publicKeyToBase64 } from "./key_id.ts";
 * const text = publicKeyToBase64(new Uint8Array(32));
 * assert.ok(publicKeyFromBase64(text).length === 32);
 * ```
 */
export function publicKeyToBase64(publicKey: Uint8Array): string {
  checkPublicKeyLength(publicKey);
  return publicKey.toBase64();
}

/**
 * Decodes a public key from standard base64 (strict: exactly 44 characters,
 * padded, no whitespace).
 *
 * @param text Untrusted base64 text.
 * @returns The 32-byte public key.
 * @throws {KernelError} `KEY_INVALID` when the text is not the base64 of 32 bytes.
 *
 * @example Reject text of the wrong length
 * ```ts
 * import assert from "node:assert/strict";
 * import { publicKeyFromBase64 } from "./key_id.ts";
 * import { KernelError } from "../core/errors.ts";
 * assert.throws(
 *   () => publicKeyFromBase64("AAAA"),
 *   (err) => KernelError.is(err, "KEY_INVALID"),
 * );
 * ```
 */
export function publicKeyFromBase64(text: string): Uint8Array {
  if (!BASE64_KEY.test(text)) {
    throw new KernelError(
      "KEY_INVALID",
      `Cannot decode public key: expected 44 characters of padded base64 (32 bytes), got ${text.length} characters`,
    );
  }
  try {
    return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch (err) {
    throw new KernelError(
      "KEY_INVALID",
      "Cannot decode public key as it is not canonical base64",
      {
        cause: err,
      },
    );
  }
}
