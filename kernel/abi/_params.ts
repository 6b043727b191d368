/**
 * Validation of untrusted host-call payloads: every field is checked for type
 * and size before anything else happens.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import { HOST_LIMITS } from "../../sdk/host_abi.ts";
import type { JsonValue } from "../store/store.ts";

/** A validated view of a payload object. */
export class Params {
  readonly #fn: string;
  readonly #o: Record<string, unknown>;

  /**
   * @param fn The host function (for messages).
   * @param payload The untrusted payload.
   * @throws {KernelError} `INVALID_INPUT` when it is not an object.
   */
  constructor(fn: string, payload: JsonValue) {
    if (
      payload === null || typeof payload !== "object" || Array.isArray(payload)
    ) {
      throw new KernelError(
        "INVALID_INPUT",
        `Host call ${fn} expects a JSON object`,
      );
    }
    this.#fn = fn;
    this.#o = payload as Record<string, unknown>;
  }

  #bad(key: string, expected: string): KernelError {
    return new KernelError(
      "INVALID_INPUT",
      `Host call ${this.#fn}: '${key}' must be ${expected}`,
    );
  }

  /** A required string of at most `max` UTF-8 bytes, without NUL. */
  string(key: string, max: number = HOST_LIMITS.payload): string {
    const v = this.#o[key];
    if (typeof v !== "string") throw this.#bad(key, "a string");
    if (v.includes("\0")) throw this.#bad(key, "free of NUL bytes");
    if (new TextEncoder().encode(v).length > max) {
      throw new KernelError(
        "ABI_PAYLOAD_TOO_LARGE",
        `Host call ${this.#fn}: '${key}' exceeds ${max} bytes`,
      );
    }
    return v;
  }

  /** An optional string. */
  optString(key: string, max?: number): string | undefined {
    return this.#o[key] === undefined ? undefined : this.string(key, max);
  }

  /** An optional array of strings. */
  optStrings(
    key: string,
    max: number = HOST_LIMITS.payload,
  ): string[] | undefined {
    const v = this.#o[key];
    if (v === undefined) return undefined;
    if (
      !Array.isArray(v) ||
      v.some((x) => typeof x !== "string" || x.includes("\0"))
    ) {
      throw this.#bad(key, "an array of strings");
    }
    if (new TextEncoder().encode(v.join("")).length > max) {
      throw new KernelError(
        "ABI_PAYLOAD_TOO_LARGE",
        `Host call ${this.#fn}: '${key}' exceeds ${max} bytes`,
      );
    }
    return v as string[];
  }

  /** An optional positive integer not above `max`. */
  optInt(key: string, max: number): number | undefined {
    const v = this.#o[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) {
      throw this.#bad(key, `an integer between 0 and ${max}`);
    }
    return v;
  }

  /** An optional string-to-string record. */
  optRecord(key: string): Record<string, string> | undefined {
    const v = this.#o[key];
    if (v === undefined) return undefined;
    if (
      v === null || typeof v !== "object" || Array.isArray(v) ||
      Object.values(v).some((x) => typeof x !== "string")
    ) {
      throw this.#bad(key, "an object of strings");
    }
    return v as Record<string, string>;
  }

  /** One of the listed literals, or the default. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.#o[key];
    if (v === undefined) return fallback;
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      throw this.#bad(key, `one of ${allowed.join(", ")}`);
    }
    return v as T;
  }

  /** Any JSON value (already size-checked with the whole payload). */
  json(key: string): JsonValue {
    const v = this.#o[key];
    return (v === undefined ? null : v) as JsonValue;
  }
}
