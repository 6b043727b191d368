/**
 * Topics and the one topic-pattern matcher of the bus, used for subscriptions,
 * interceptors and both ACL lists alike.
 *
 * Grammar (reference §4.2, one matcher instead of two):
 * - A **topic** is 1–8 dot-separated segments, at most 256 characters; a
 *   segment is one or more of `[A-Za-z0-9_:-]`. Empty segments (leading,
 *   trailing or double dots, the empty string) are invalid.
 * - A **pattern** has the same shape, and a segment may also be `*` (exactly
 *   one segment, anywhere) or, as the last segment only, `**` (one or more
 *   further segments). Wildcards are whole segments: `foo*` is invalid.
 *
 * `*` keeps the 0.5 ACL/interceptor meaning exactly (equal segment counts).
 * 0.5 subscriptions used a second matcher where a trailing `.*` also matched
 * deeper topics; here that is spelled `.**`, so a pattern means the same thing
 * in a manifest ACL and in a subscription, and an ACL can be checked against a
 * subscription pattern exactly ({@linkcode TopicPattern.covers}).
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";

/**
 * Longest topic or pattern, in characters (all allowed characters are ASCII).
 *
 * @example The limit
 * ```ts
 * import { MAX_TOPIC_LENGTH } from "./topic.ts";
 * console.assert(MAX_TOPIC_LENGTH === 256);
 * ```
 */
export const MAX_TOPIC_LENGTH = 256;
/**
 * Most segments in a topic or pattern.
 *
 * @example The limit
 * ```ts
 * import { MAX_TOPIC_SEGMENTS } from "./topic.ts";
 * console.assert(MAX_TOPIC_SEGMENTS === 8);
 * ```
 */
export const MAX_TOPIC_SEGMENTS = 8;

const SEGMENT = /^[A-Za-z0-9_:-]+$/;
const TOPIC = /^[A-Za-z0-9_:-]+(?:\.[A-Za-z0-9_:-]+){0,7}$/;

/**
 * Checks a concrete topic (no wildcards).
 *
 * @param topic Untrusted input.
 * @returns The topic, unchanged.
 * @throws {KernelError} `BUS_TOPIC_INVALID` naming what is wrong.
 *
 * @example Accept a topic, refuse an empty segment
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateTopic } from "./topic.ts";
 * assert.equal(validateTopic("llm.v1.stream.openai"), "llm.v1.stream.openai");
 * assert.throws(() => validateTopic("llm..stream"), /empty segment/);
 * ```
 */
export function validateTopic(topic: unknown): string {
  if (
    typeof topic === "string" && topic.length <= MAX_TOPIC_LENGTH &&
    TOPIC.test(topic)
  ) return topic;
  checkShape(topic, "topic", false);
  return topic as string;
}

/** A compiled topic pattern. */
export interface TopicPattern {
  /** The pattern text. */
  readonly source: string;
  /**
   * Tells whether a concrete topic matches.
   *
   * @param topic A topic that passed {@linkcode validateTopic}.
   * @returns `true` on a match.
   */
  matches(topic: string): boolean;
  /**
   * Tells whether every topic `other` matches is also matched by this
   * pattern (so an ACL entry can authorise a subscription pattern).
   *
   * @param other Another compiled pattern.
   * @returns `true` when this pattern is at least as wide.
   */
  covers(other: TopicPattern): boolean;
}

/**
 * Compiles a topic pattern.
 *
 * @param pattern Untrusted pattern text, e.g. `tool.v1.execute.*.result` or `llm.v1.**`.
 * @returns The compiled {@linkcode TopicPattern}.
 * @throws {KernelError} `BUS_TOPIC_INVALID` for empty segments, partial or
 * misplaced wildcards, bad characters, or a pattern too long or too deep.
 *
 * @example `*` is one segment, a trailing `**` is one or more
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTopicPattern } from "./topic.ts";
 * const one = compileTopicPattern("tool.v1.execute.*.result");
 * assert.ok(one.matches("tool.v1.execute.read_file.result"));
 * assert.ok(!one.matches("tool.v1.execute.a.b.result"));
 * const deep = compileTopicPattern("llm.v1.**");
 * assert.ok(deep.matches("llm.v1.stream.openai"));
 * assert.ok(!deep.matches("llm.v1"));
 * assert.ok(deep.covers(compileTopicPattern("llm.v1.stream.*")));
 * assert.ok(!compileTopicPattern("llm.v1.*").covers(deep));
 * ```
 */
export function compileTopicPattern(pattern: unknown): TopicPattern {
  checkShape(pattern, "topic pattern", true);
  return new CompiledPattern(pattern as string);
}

class CompiledPattern implements TopicPattern {
  readonly source: string;
  /** Segments before a trailing `**`; `null` stands for `*`. */
  readonly #head: readonly (string | null)[];
  readonly #deep: boolean;
  readonly #literal: boolean;

  constructor(source: string) {
    this.source = source;
    const parts = source.split(".");
    this.#deep = parts[parts.length - 1] === "**";
    if (this.#deep) parts.pop();
    this.#head = parts.map((p) => (p === "*" ? null : p));
    this.#literal = !this.#deep && !this.#head.includes(null);
  }

  matches(topic: string): boolean {
    if (this.#literal) return topic === this.source;
    const segs = topic.split(".");
    const head = this.#head;
    if (this.#deep ? segs.length <= head.length : segs.length !== head.length) {
      return false;
    }
    for (let i = 0; i < head.length; i++) {
      const p = head[i];
      if (p !== null && p !== segs[i]) return false;
    }
    return true;
  }

  covers(other: TopicPattern): boolean {
    if (!(other instanceof CompiledPattern)) {
      throw new TypeError(
        "Cannot compare a pattern not made by compileTopicPattern()",
      );
    }
    const a = this.#head;
    const b = other.#head;
    if (this.#deep) {
      // b needs a segment at every position of a's head and at least one more.
      if (b.length < a.length + (other.#deep ? 0 : 1)) return false;
    } else if (other.#deep || b.length !== a.length) {
      return false;
    }
    for (let i = 0; i < a.length; i++) {
      const p = a[i];
      if (p !== null && p !== b[i]) return false;
    }
    return true;
  }
}

function checkShape(value: unknown, kind: string, wildcards: boolean): void {
  if (typeof value !== "string") {
    fail(kind, String(typeof value), "expected a string");
  }
  const text = value as string;
  if (text.length === 0) fail(kind, text, "it is empty");
  if (text.length > MAX_TOPIC_LENGTH) {
    fail(
      kind,
      text,
      `it has ${text.length} characters (the maximum is ${MAX_TOPIC_LENGTH})`,
    );
  }
  const parts = text.split(".");
  if (parts.length > MAX_TOPIC_SEGMENTS) {
    fail(
      kind,
      text,
      `it has ${parts.length} segments (the maximum is ${MAX_TOPIC_SEGMENTS})`,
    );
  }
  parts.forEach((part, i) => {
    if (part === "") fail(kind, text, `segment ${i + 1} is an empty segment`);
    if (part === "*" || part === "**") {
      if (!wildcards) {
        fail(kind, text, "a concrete topic cannot contain wildcards");
      }
      if (part === "**" && i !== parts.length - 1) {
        fail(kind, text, "'**' is allowed only as the last segment");
      }
      return;
    }
    if (part.includes("*")) {
      fail(
        kind,
        text,
        `segment '${part}' mixes '*' with text (wildcards are whole segments)`,
      );
    }
    if (!SEGMENT.test(part)) {
      fail(
        kind,
        text,
        `segment '${part}' has characters outside [A-Za-z0-9_:-]`,
      );
    }
  });
}

function fail(kind: string, text: string, why: string): never {
  throw new KernelError(
    "BUS_TOPIC_INVALID",
    `Invalid ${kind} ${JSON.stringify(text.slice(0, 80))}: ${why}`,
    { data: { kind } },
  );
}
