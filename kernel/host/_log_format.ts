/**
 * Private: renders log records as one JSON line or one human-readable line.
 * Both forms are single lines whatever the input: a message or field cannot
 * forge a second record.
 *
 * @module
 */
import type { LogFields, LogLevel } from "../core/ports.ts";

/** How deep nested fields are rendered before being cut. */
const MAX_DEPTH = 6;

/** One log record ready to render. */
export interface LogRecord {
  /** Milliseconds since the epoch. */
  time: number;
  /** Severity. */
  level: LogLevel;
  /** The message. */
  message: string;
  /** Merged structured fields. */
  fields: LogFields;
}

/**
 * Renders a record as one JSON object: `{...fields, time, level, msg}`. The
 * reserved keys come last, so a field cannot override them.
 *
 * @param record The record.
 * @returns One line, without the trailing newline.
 */
export function formatJson(record: LogRecord): string {
  const fields = toJsonSafe(record.fields, 0, []) as Record<string, unknown>;
  return JSON.stringify({
    ...fields,
    time: new Date(record.time).toISOString(),
    level: record.level,
    msg: record.message,
  });
}

/**
 * Renders a record as `TIME LEVEL message key=value …` with control characters escaped.
 *
 * @param record The record.
 * @returns One line, without the trailing newline.
 */
export function formatPretty(record: LogRecord): string {
  const parts = [
    new Date(record.time).toISOString(),
    record.level.toUpperCase().padEnd(5),
    escapeControl(record.message),
  ];
  for (const [key, value] of Object.entries(record.fields)) {
    const safe = toJsonSafe(value, 0, []);
    const text = typeof safe === "string" && /^[^\s"=\\]+$/.test(safe)
      ? safe
      : JSON.stringify(safe);
    parts.push(`${escapeControl(key)}=${escapeControl(text ?? "undefined")}`);
  }
  return parts.join(" ");
}

function escapeControl(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/**
 * Turns any value into something `JSON.stringify` renders faithfully: bigints
 * become strings, errors `{name, message, code?}`, byte arrays a length,
 * cycles `"[Circular]"`, deep nesting `"[Truncated]"`.
 */
function toJsonSafe(
  value: unknown,
  depth: number,
  ancestors: object[],
): unknown {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "function":
    case "symbol":
      return `[${typeof value}]`;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "object":
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated]";
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return typeof code === "string"
      ? { name: value.name, message: value.message, code }
      : { name: value.name, message: value.message };
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  }
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const next = [...ancestors, value];
  if (Array.isArray(value)) {
    return value.map((v) => toJsonSafe(v, depth + 1, next));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[k] = toJsonSafe(v, depth + 1, next);
  }
  return out;
}
