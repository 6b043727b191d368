/**
 * Base64 for host-call payloads, on the built-in `Uint8Array` base64 methods
 * the rest of the kernel uses (`toBase64` / `fromBase64`).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * Encodes bytes as standard padded base64.
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 */
export function encodeBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Decodes standard padded base64. Whitespace, URL-safe letters and missing
 * padding are refused (the built-in decoder would skip whitespace).
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {KernelError} `INVALID_INPUT` when it is not valid base64.
 */
export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new KernelError("INVALID_INPUT", "Content is not valid base64");
  }
  try {
    return Uint8Array.fromBase64(text);
  } catch (err) {
    throw new KernelError("INVALID_INPUT", "Content is not valid base64", {
      cause: err,
    });
  }
}
