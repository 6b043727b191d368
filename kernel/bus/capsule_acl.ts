/**
 * A capsule's publish and subscribe ACLs (reference §4.3), compiled once from
 * the manifest's `ipc_publish` / `ipc_subscribe` lists.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import {
  compileTopicPattern,
  type TopicPattern,
  validateTopic,
} from "./topic.ts";

/**
 * The first segment of topics only the kernel may publish (`astrid.v1.*`):
 * lifecycle, health, approval and elicitation traffic. No ACL can grant it,
 * so a capsule can neither fake a kernel event nor answer its own approval.
 *
 * @example The reserved domain
 * ```ts
 * import { RESERVED_DOMAIN } from "./capsule_acl.ts";
 * console.assert(RESERVED_DOMAIN === "astrid");
 * ```
 */
export const RESERVED_DOMAIN = "astrid";

/** Most allowed topics remembered per capsule before the cache starts over. */
const CACHE_LIMIT = 4096;

/** The outcome of an ACL check. */
export type AclVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

const OK: AclVerdict = Object.freeze({ ok: true });

/**
 * Compiled ACLs of one capsule. An empty list means the capsule may not
 * publish (or subscribe) at all. Publish checks are cached per allowed topic,
 * so the hot path is one `Set` lookup.
 *
 * @example Allow and deny
 * ```ts
 * import assert from "node:assert/strict";
 * import { CapsuleAcl } from "./capsule_acl.ts";
 * import { compileTopicPattern } from "./topic.ts";
 * const acl = new CapsuleAcl({ publish: ["tool.v1.execute.*.result"], subscribe: ["tool.v1.execute.*"] });
 * assert.ok(acl.checkPublish("tool.v1.execute.read_file.result").ok);
 * assert.ok(!acl.checkPublish("tool.v1.execute.read_file").ok);
 * assert.ok(acl.checkSubscribe(compileTopicPattern("tool.v1.execute.read_file")).ok);
 * assert.ok(!acl.checkSubscribe(compileTopicPattern("tool.v1.**")).ok);
 * ```
 */
export class CapsuleAcl {
  readonly #publish: readonly TopicPattern[];
  readonly #subscribe: readonly TopicPattern[];
  readonly #allowed = new Set<string>();

  /**
   * Compiles the lists.
   *
   * @param lists The manifest's `ipc_publish` and `ipc_subscribe` patterns.
   * @throws {KernelError} `BUS_TOPIC_INVALID` when a pattern is malformed.
   */
  constructor(
    lists: {
      readonly publish: readonly string[];
      readonly subscribe: readonly string[];
    },
  ) {
    this.#publish = lists.publish.map((p) => compileTopicPattern(p));
    this.#subscribe = lists.subscribe.map((p) => compileTopicPattern(p));
  }

  /**
   * Tells whether the capsule may publish `topic`. Fast when the topic was
   * allowed before.
   *
   * @param topic The concrete topic.
   * @returns The verdict, with a reason when denied.
   * @throws {KernelError} `BUS_TOPIC_INVALID` when `topic` is malformed.
   */
  checkPublish(topic: string): AclVerdict {
    if (this.#allowed.has(topic)) return OK;
    validateTopic(topic);
    const verdict = this.#decidePublish(topic);
    if (verdict.ok) {
      if (this.#allowed.size >= CACHE_LIMIT) this.#allowed.clear();
      this.#allowed.add(topic);
    }
    return verdict;
  }

  /**
   * Tells whether the capsule may subscribe with `pattern`: some
   * `ipc_subscribe` entry must cover every topic the pattern matches.
   *
   * @param pattern The compiled subscription pattern.
   * @returns The verdict, with a reason when denied.
   */
  checkSubscribe(pattern: TopicPattern): AclVerdict {
    if (this.#subscribe.length === 0) {
      return deny("its manifest grants no ipc_subscribe patterns");
    }
    if (this.#subscribe.some((acl) => acl.covers(pattern))) return OK;
    return deny(
      `no ipc_subscribe pattern covers it (granted: ${list(this.#subscribe)})`,
    );
  }

  #decidePublish(topic: string): AclVerdict {
    if (topic === RESERVED_DOMAIN || topic.startsWith(`${RESERVED_DOMAIN}.`)) {
      return deny(
        `topics under '${RESERVED_DOMAIN}.' are published by the kernel only`,
      );
    }
    if (this.#publish.length === 0) {
      return deny("its manifest grants no ipc_publish patterns");
    }
    if (this.#publish.some((p) => p.matches(topic))) return OK;
    return deny(
      `no ipc_publish pattern matches it (granted: ${list(this.#publish)})`,
    );
  }
}

function deny(reason: string): AclVerdict {
  return { ok: false, reason };
}

function list(patterns: readonly TopicPattern[]): string {
  const shown = patterns.slice(0, 8).map((p) => p.source).join(", ");
  return patterns.length > 8 ? `${shown}, …` : shown;
}

/**
 * Turns a denied verdict into the error the caller gets.
 *
 * @param what `publish to` or `subscribe to`.
 * @param target The capsule, the topic or pattern, and why it was denied.
 * @returns A `BUS_ACL_DENIED` error.
 *
 * @example The error a denied publisher gets
 * ```ts
 * import { aclError } from "./capsule_acl.ts";
 * const err = aclError("publish to", { capsule: "x", topic: "a.b", reason: "no pattern matches it" });
 * console.assert(err.code === "BUS_ACL_DENIED");
 * ```
 */
export function aclError(
  what: "publish to" | "subscribe to",
  target: { capsule: string; topic: string; reason: string },
): KernelError {
  return new KernelError(
    "BUS_ACL_DENIED",
    `Capsule '${target.capsule}' may not ${what} '${target.topic}' as ${target.reason}`,
    { data: { capsule: target.capsule, topic: target.topic } },
  );
}
