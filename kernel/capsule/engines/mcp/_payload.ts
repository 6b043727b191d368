/**
 * Reading the JSON payloads of MCP capsule actions (private to this folder).
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";
import type { JsonValue } from "../../../store/store.ts";

/** A JSON object. */
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * The value as a JSON object, or `null` when it is not one.
 *
 * @param v Any JSON value.
 * @returns The object or `null`.
 */
export function asObject(v: JsonValue | undefined): JsonObject | null {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as JsonObject
    : null;
}

function object(payload: JsonValue, action: string): JsonObject {
  if (payload && typeof payload === "object" && !Array.isArray(payload)) {
    return payload as JsonObject;
  }
  throw new KernelError(
    "INVALID_INPUT",
    `${action}: the payload must be a JSON object`,
  );
}

/**
 * A required non-empty string field (≤ 4096 characters).
 *
 * @param payload The payload.
 * @param key The field.
 * @param action The action (for messages).
 * @returns The value.
 * @throws {KernelError} `INVALID_INPUT` when missing, empty or not a string.
 */
export function requireString(
  payload: JsonValue,
  key: string,
  action: string,
): string {
  const v = optionalString(payload, key, action);
  if (v === undefined || v === "") {
    throw new KernelError(
      "INVALID_INPUT",
      `${action}: '${key}' must be a non-empty string`,
    );
  }
  return v;
}

/**
 * An optional string field (≤ 4096 characters).
 *
 * @param payload The payload.
 * @param key The field.
 * @param action The action (for messages).
 * @returns The value, or `undefined` when absent or null.
 * @throws {KernelError} `INVALID_INPUT` when present but not a string or too long.
 */
export function optionalString(
  payload: JsonValue,
  key: string,
  action: string,
): string | undefined {
  const v = object(payload, action)[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length > 4096) {
    throw new KernelError(
      "INVALID_INPUT",
      `${action}: '${key}' must be a string of at most 4096 characters`,
    );
  }
  return v;
}

/**
 * The `arguments` object of a tool or prompt call (absent ⇒ `{}`).
 *
 * @param payload The payload.
 * @param action The action (for messages).
 * @returns The arguments.
 * @throws {KernelError} `INVALID_INPUT` when `arguments` is not an object.
 */
export function mcpArgs(
  payload: JsonValue,
  action: string,
): JsonObject {
  const v = object(payload, action)["arguments"];
  if (v === undefined || v === null) return {};
  if (typeof v === "object" && !Array.isArray(v)) return v as JsonObject;
  throw new KernelError(
    "INVALID_INPUT",
    `${action}: 'arguments' must be a JSON object`,
  );
}
