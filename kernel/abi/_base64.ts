/**
 * Standard base64 for host-call payloads (strict decode).
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
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * Decodes standard padded base64.
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {KernelError} `INVALID_INPUT` when it is not valid base64.
 */
export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new KernelError("INVALID_INPUT", "Content is not valid base64");
  }
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
