/**
 * The `static` engine: capsules without code. Their context files, skills and
 * commands are injected as data; `invoke` only reads them. There is no guest,
 * so there are no host calls, no deadline and nothing to stop.
 *
 * Artifact format: UTF-8 JSON `{ "version": 1, "context_files": [{name, content}],
 * "skills": [{name, description?, content}], "commands": [{name, description?}] }`
 * built by the loader from the manifest's `[[context_file]]`, `[[skill]]` and
 * `[[command]]` tables and their (integrity-checked) files.
 *
 * Actions: `context_files`, `skills`, `commands` (lists), `get` (`{kind, name}` ⇒ one item).
 *
 * @module
 */
import { KernelError } from "../../../core/errors.ts";
import type { CapsuleId } from "../../../core/ids.ts";
import type { JsonValue } from "../../../store/store.ts";
import type {
  Capsule,
  CapsuleHealth,
  Engine,
  EngineLoadOptions,
} from "../../engine.ts";

/** A named piece of static content. */
export interface StaticItem {
  readonly name: string;
  readonly description?: string;
  readonly content?: string;
}

/** The parsed artifact of a static capsule. */
export interface StaticBundle {
  readonly version: 1;
  readonly context_files: readonly StaticItem[];
  readonly skills: readonly StaticItem[];
  readonly commands: readonly StaticItem[];
}

const KINDS = ["context_files", "skills", "commands"] as const;
type Kind = typeof KINDS[number];

function invalid(capsule: CapsuleId, why: string): KernelError {
  return new KernelError(
    "MANIFEST_INVALID",
    `Cannot load static capsule '${capsule}': ${why}`,
  );
}

function parseItems(
  raw: unknown,
  capsule: CapsuleId,
  kind: Kind,
): StaticItem[] {
  if (!Array.isArray(raw)) throw invalid(capsule, `'${kind}' must be an array`);
  return raw.map((item, i) => {
    const o = item as Record<string, unknown> | null;
    if (
      o === null || typeof o !== "object" || typeof o["name"] !== "string" ||
      o["name"] === ""
    ) {
      throw invalid(capsule, `${kind}[${i}].name must be a non-empty string`);
    }
    for (const k of ["description", "content"]) {
      if (o[k] !== undefined && typeof o[k] !== "string") {
        throw invalid(capsule, `${kind}[${i}].${k} must be a string`);
      }
    }
    return {
      name: o["name"],
      ...(typeof o["description"] === "string"
        ? { description: o["description"] }
        : {}),
      ...(typeof o["content"] === "string" ? { content: o["content"] } : {}),
    };
  });
}

/**
 * Parses and validates a static artifact.
 *
 * @param bytes The artifact.
 * @param capsule The capsule, for messages.
 * @returns The bundle.
 * @throws {KernelError} `MANIFEST_INVALID` when it is not a version-1 bundle.
 */
export function parseStaticBundle(
  bytes: Uint8Array,
  capsule: CapsuleId,
): StaticBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new KernelError(
      "MANIFEST_INVALID",
      `Cannot load static capsule '${capsule}': artifact is not UTF-8 JSON`,
      { cause: err },
    );
  }
  const o = raw as Record<string, unknown> | null;
  if (o === null || typeof o !== "object" || o["version"] !== 1) {
    throw invalid(capsule, 'expected {"version": 1, …}');
  }
  return {
    version: 1,
    context_files: parseItems(
      o["context_files"] ?? [],
      capsule,
      "context_files",
    ),
    skills: parseItems(o["skills"] ?? [], capsule, "skills"),
    commands: parseItems(o["commands"] ?? [], capsule, "commands"),
  };
}

class StaticCapsule implements Capsule {
  readonly id: CapsuleId;
  #bundle: StaticBundle;
  #unloaded = false;

  constructor(id: CapsuleId, bundle: StaticBundle) {
    this.id = id;
    this.#bundle = bundle;
  }

  invoke(action: string, payload: JsonValue): Promise<JsonValue> {
    if (this.#unloaded) {
      return Promise.reject(
        new KernelError(
          "CAPSULE_NOT_FOUND",
          `Capsule '${this.id}' is unloaded`,
        ),
      );
    }
    if ((KINDS as readonly string[]).includes(action)) {
      return Promise.resolve(
        this.#bundle[action as Kind] as unknown as JsonValue,
      );
    }
    if (action === "get") {
      const p = payload as { kind?: unknown; name?: unknown } | null;
      const kind = p?.kind;
      if (
        typeof kind !== "string" ||
        !(KINDS as readonly string[]).includes(kind) ||
        typeof p?.name !== "string"
      ) {
        return Promise.reject(
          new KernelError(
            "INVALID_INPUT",
            "get expects {kind: context_files|skills|commands, name}",
          ),
        );
      }
      const item = this.#bundle[kind as Kind].find((i) => i.name === p.name);
      if (!item) {
        return Promise.reject(
          new KernelError(
            "NOT_FOUND",
            `Capsule '${this.id}' has no ${kind} entry '${p.name}'`,
          ),
        );
      }
      return Promise.resolve(item as unknown as JsonValue);
    }
    return Promise.reject(
      new KernelError(
        "CAPSULE_NOT_FOUND",
        `Static capsule '${this.id}' has no action '${action}'`,
      ),
    );
  }

  health(): CapsuleHealth {
    return this.#unloaded
      ? { status: "failed", reason: "unloaded" }
      : { status: "ok" };
  }

  unload(): Promise<void> {
    this.#unloaded = true;
    return Promise.resolve();
  }
}

/**
 * Creates the static engine.
 *
 * @returns An {@linkcode Engine} named `static`.
 *
 * @example Serve a context file
 * ```ts
 * import { createStaticEngine } from "./static_engine.ts";
 * import { DEFAULT_ENGINE_LIMITS } from "../../engine.ts";
 * const artifact = new TextEncoder().encode(JSON.stringify({ version: 1, context_files: [{ name: "a", content: "hi" }] }));
 * const capsule = await createStaticEngine().load({
 *   capsule: "identity" as never, artifact, host: () => Promise.resolve(null),
 *   limits: DEFAULT_ENGINE_LIMITS, config: {},
 * });
 * console.assert((await capsule.invoke("context_files", null) as unknown[]).length === 1);
 * ```
 */
export function createStaticEngine(): Engine {
  return {
    name: "static",
    load(options: EngineLoadOptions): Promise<Capsule> {
      try {
        return Promise.resolve(
          new StaticCapsule(
            options.capsule,
            parseStaticBundle(options.artifact, options.capsule),
          ),
        );
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
