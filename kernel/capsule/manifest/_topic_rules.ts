/**
 * Topic checks used by the manifest (reference §4.2, §4.3): ACL patterns and
 * interceptor events, and `[[topic]]` names.
 *
 * @module
 */

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const MAX_TOPIC_BYTES = 256;
const MAX_SEGMENTS = 8;

/**
 * Checks a topic pattern as used by `ipc_publish`, `ipc_subscribe` and
 * `[[interceptor]] event`: 1–8 dot-separated segments of `[A-Za-z0-9_-]` or
 * a whole-segment `*`, at most 256 bytes.
 *
 * @returns `null` when valid, else what is wrong.
 */
export function topicPatternProblem(pattern: string): string | null {
  if (new TextEncoder().encode(pattern).length > MAX_TOPIC_BYTES) {
    return `a topic pattern of at most ${MAX_TOPIC_BYTES} bytes`;
  }
  const segments = pattern.split(".");
  if (segments.some((s) => s === "")) {
    return "a topic pattern without empty segments (no leading, trailing or double dots)";
  }
  if (segments.length > MAX_SEGMENTS) {
    return `a topic pattern of at most ${MAX_SEGMENTS} segments`;
  }
  if (!segments.every((s) => s === "*" || SEGMENT.test(s))) {
    return "a topic pattern whose segments are [A-Za-z0-9_-] or a whole '*'";
  }
  return null;
}

/**
 * Checks a `[[topic]] name`: valid segments, no wildcard except one trailing
 * `.*`, and not a bare `*`.
 *
 * @returns `null` when valid, else what is wrong.
 */
export function topicNameProblem(name: string): string | null {
  const segments = name.split(".");
  if (segments.some((s) => s === "")) {
    return "a topic name without empty segments";
  }
  if (name === "*") return "a topic name narrower than '*' (too broad)";
  const wildcards = segments.filter((s) => s.includes("*"));
  if (
    wildcards.length > 0 && (wildcards.length > 1 || segments.at(-1) !== "*")
  ) {
    return "a topic name with at most one trailing '.*' (mid-segment or non-trailing wildcard)";
  }
  if (!segments.every((s) => s === "*" || SEGMENT.test(s))) {
    return "a topic name of [A-Za-z0-9_-] segments (invalid characters)";
  }
  if (segments.length > MAX_SEGMENTS) {
    return `a topic name of at most ${MAX_SEGMENTS} segments`;
  }
  return null;
}
