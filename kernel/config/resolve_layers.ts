/**
 * Merges config layers (defaults < env < system < user < workspace) into an
 * {@linkcode EffectiveConfig}, without touching the file system.
 *
 * @module
 */
import type { ConfigKey } from "./astrid_config.ts";
import {
  BUILT_IN,
  EffectiveConfig,
  type ResolvedValue,
} from "./effective_config.ts";
import { configError, type ConfigIssue } from "./issues.ts";
import { type Layer, LAYER_NAMES, validateLayer } from "./layer.ts";
import { CONFIG_SCHEMA } from "./schema.ts";
import { applyWorkspaceLayer } from "./tighten.ts";

/** Options of {@linkcode resolveLayers}. */
export interface ResolveLayersOptions {
  /** Issues found earlier (env parsing, `${VAR}` expansion) to report with the others. */
  issues?: readonly ConfigIssue[];
}

/**
 * Validates every layer, merges them key by key over the built-in defaults
 * (a later layer overrides an earlier one; lists are replaced, not merged),
 * then applies the workspace layer under the tighten-only rules against the
 * merged lower layers.
 *
 * @param layers The layers present, in precedence order, each name at most once.
 *   A `"defaults"` layer, if given, overrides the built-in defaults.
 * @param options Earlier issues to report together.
 * @returns The effective config with provenance.
 * @throws {KernelError} `CONFIG_INVALID` listing every unknown key and every
 *   type or range error of every layer (`data.issues`), `CONFIG_WIDENING`
 *   listing every key the workspace layer tried to loosen.
 * @throws {RangeError} When layers are out of order or repeated.
 *
 * @example A workspace may tighten but not loosen
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveLayers } from "./resolve_layers.ts";
 * import { KernelError } from "../core/errors.ts";
 * const user = { name: "user", source: "/u.toml", values: { workspace: { mode: "guided" } } } as const;
 * const tighter = resolveLayers([user, { name: "workspace", source: "/w.toml", values: { workspace: { mode: "safe" } } }]);
 * assert(tighter.get("workspace.mode") === "safe");
 * try {
 *   resolveLayers([user, { name: "workspace", source: "/w.toml", values: { workspace: { mode: "yolo" } } }]);
 *   throw new Error("unreachable");
 * } catch (err) {
 *   assert(KernelError.is(err, "CONFIG_WIDENING"));
 * }
 * ```
 */
export function resolveLayers(
  layers: readonly Layer[],
  options: ResolveLayersOptions = {},
): EffectiveConfig {
  checkOrder(layers);
  const validated = layers.map(validateLayer);
  const issues = [
    ...(options.issues ?? []),
    ...validated.flatMap((v) => v.issues),
  ];
  if (issues.length > 0) throw configError("CONFIG_INVALID", issues);

  let resolved = new Map<ConfigKey, ResolvedValue>(
    CONFIG_SCHEMA.map((
      spec,
    ) => [spec.key, { value: spec.default, origin: BUILT_IN }]),
  );
  for (const v of validated) {
    if (v.layer.name === "workspace") {
      const merged = applyWorkspaceLayer(resolved, v);
      if (merged.widenings.length > 0) {
        throw configError("CONFIG_WIDENING", merged.widenings);
      }
      resolved = new Map(merged.resolved);
      continue;
    }
    const sensitive = new Set(v.layer.sensitiveKeys ?? []);
    for (const [key, value] of v.values) {
      const source = v.layer.keySources?.[key] ?? v.layer.source;
      const origin = { layer: v.layer.name, source };
      resolved.set(key, {
        value,
        origin,
        ...(sensitive.has(key) ? { sensitive: true } : {}),
      });
    }
  }
  return new EffectiveConfig(
    resolved,
    layers.map((l) => ({ layer: l.name, source: l.source })),
  );
}

function checkOrder(layers: readonly Layer[]): void {
  let last = -1;
  for (const layer of layers) {
    const rank = LAYER_NAMES.indexOf(layer.name);
    if (rank <= last) {
      throw new RangeError(
        `Config layers must be ordered ${
          LAYER_NAMES.join(" < ")
        } with each at most once, got ${layers.map((l) => l.name).join(", ")}`,
      );
    }
    last = rank;
  }
}
