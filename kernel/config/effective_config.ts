/**
 * The effective configuration: every key's value together with the layer
 * and source that set it.
 *
 * @module
 */
import type {
  AstridConfig,
  ConfigKey,
  ConfigValue,
  ConfigValueOf,
} from "./astrid_config.ts";
import type { LayerName } from "./layer.ts";
import { CONFIG_SCHEMA, findKeySpec } from "./schema.ts";

/** Where an effective value came from. */
export interface ConfigOrigin {
  /** The layer that set it (`"defaults"` for built-in values). */
  readonly layer: LayerName;
  /** The file path, the environment variable's name, or `"built-in"`. */
  readonly source: string;
}

/** A resolved key: value, origin, and whether the value must not be echoed. */
export interface ResolvedValue {
  /** The effective value (lists frozen). */
  readonly value: ConfigValue;
  /** Who set it. */
  readonly origin: ConfigOrigin;
  /** The value came from `${VAR}` expansion; keep it out of messages. */
  readonly sensitive?: boolean;
}

/** One row of `astrid config show`. */
export interface ConfigEntry {
  /** The dotted key. */
  readonly key: ConfigKey;
  /** The value; a non-empty secret shows as `"********"` unless revealed. */
  readonly value: ConfigValue;
  /** The layer that set it. */
  readonly layer: LayerName;
  /** The file, variable or `"built-in"` that set it. */
  readonly source: string;
  /** The key holds a secret. */
  readonly secret: boolean;
  /** One line describing the key. */
  readonly description: string;
}

/** Options of {@linkcode EffectiveConfig.entries}. */
export interface EntriesOptions {
  /** Show secret values instead of `"********"`. */
  revealSecrets?: boolean;
}

/** The origin of built-in defaults. */
export const BUILT_IN: ConfigOrigin = Object.freeze({
  layer: "defaults",
  source: "built-in",
});

const REDACTED = "********";

/**
 * The merged configuration with per-key provenance. Made by `resolveLayers()`
 * or `loadConfig()`.
 *
 * Deny-lists extended by the workspace (rule `unionDenyList`) report the
 * workspace as their origin when it added at least one entry, otherwise the
 * layer that set the baseline list.
 *
 * @example Read a value and where it came from
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLayers } from "./resolve_layers.ts";
 * const config = resolveLayers([
 *   { name: "user", source: "/home/u/.astrid/config.toml", values: { budget: { session_max_usd: 20 } } },
 * ]);
 * assert(config.values.budget.session_max_usd === 20);
 * assert(config.get("budget.session_max_usd") === 20);
 * assert(config.origin("budget.session_max_usd").layer === "user");
 * assert(config.origin("workspace.mode").source === "built-in");
 * ```
 */
export class EffectiveConfig {
  #resolved: ReadonlyMap<ConfigKey, ResolvedValue>;
  /** The typed, deeply frozen view of all values. */
  readonly values: AstridConfig;
  /** The layers that were present, lowest precedence first. */
  readonly layers: readonly ConfigOrigin[];

  /**
   * Builds the typed view; `resolveLayers()` is the usual way to get one.
   *
   * @param resolved A value for every key of the schema (optional keys may be `undefined`).
   * @param layers The layers that were present.
   * @throws {TypeError} When a required key has no value.
   */
  constructor(
    resolved: ReadonlyMap<ConfigKey, ResolvedValue>,
    layers: readonly ConfigOrigin[],
  ) {
    const root: Record<string, unknown> = {};
    for (const spec of CONFIG_SCHEMA) {
      const entry = resolved.get(spec.key);
      if (
        entry === undefined ||
        (entry.value === undefined && spec.optional !== true)
      ) {
        throw new TypeError(`EffectiveConfig needs a value for '${spec.key}'`);
      }
      if (entry.value !== undefined) place(root, spec.key, entry.value);
    }
    this.#resolved = new Map(resolved);
    this.values = deepFreeze(root) as unknown as AstridConfig;
    this.layers = Object.freeze(layers.map((l) => Object.freeze({ ...l })));
  }

  /**
   * The effective value of a key.
   *
   * @param key A dotted key.
   * @returns The value (`undefined` only for an unset optional key).
   * @throws {RangeError} When `key` is not a config key.
   */
  get<K extends ConfigKey>(key: K): ConfigValueOf<K> {
    return this.#entry(key).value as ConfigValueOf<K>;
  }

  /**
   * Which layer and source set a key.
   *
   * @param key A dotted key.
   * @returns The origin; `{layer: "defaults", source: "built-in"}` when no layer set it.
   * @throws {RangeError} When `key` is not a config key.
   */
  origin(key: ConfigKey): ConfigOrigin {
    return this.#entry(key).origin;
  }

  /**
   * Every key in schema order with value and origin, for `astrid config show`.
   *
   * @param options Whether to reveal secrets.
   * @returns One entry per key.
   */
  entries(options: EntriesOptions = {}): ConfigEntry[] {
    return CONFIG_SCHEMA.map((spec) => {
      const { value, origin } = this.#entry(spec.key);
      const secret = spec.secret === true;
      const hide = secret && options.revealSecrets !== true && value !== "" &&
        value !== undefined;
      return {
        key: spec.key,
        value: hide ? REDACTED : value,
        layer: origin.layer,
        source: origin.source,
        secret,
        description: spec.description,
      };
    });
  }

  #entry(key: string): ResolvedValue {
    const entry = findKeySpec(key) === undefined
      ? undefined
      : this.#resolved.get(key as ConfigKey);
    if (entry === undefined) {
      throw new RangeError(`Unknown config key '${key}'`);
    }
    return entry;
  }
}

function place(
  root: Record<string, unknown>,
  key: string,
  value: ConfigValue,
): void {
  const parts = key.split(".");
  let table = root;
  for (const part of parts.slice(0, -1)) {
    table[part] ??= {};
    table = table[part] as Record<string, unknown>;
  }
  table[parts[parts.length - 1] ?? key] = value;
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
