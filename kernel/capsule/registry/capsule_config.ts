/**
 * A capsule's non-secret configuration: the `[env]` defaults of its manifest,
 * overridden by the values the operator set for it (runtime option
 * `capsuleConfig`, e.g. the CLI mapping `ASTRID_REPLAY_FILE` to
 * `provider-replay`'s `replay_file`). Only keys the manifest declares, and
 * never a `secret`, can be set: an override cannot invent configuration the
 * capsule author did not ask for, nor put a secret where the capsule reads it.
 *
 * @module
 */
import type { EnvDef } from "../manifest/manifest_types.ts";

/**
 * Merges the declared defaults and the operator's values.
 *
 * @param env The manifest's `[env]` definitions.
 * @param overrides The operator's values for this capsule (unknown and
 *   secret keys are ignored).
 * @returns Key → value for every non-secret key that has one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { capsuleConfig } from "./capsule_config.ts";
 * const env = [
 *   { key: "model", type: "string", request: "", enum_values: [], default: "m1" },
 *   { key: "token", type: "secret", request: "", enum_values: [] },
 * ] as const;
 * assert.deepEqual(
 *   capsuleConfig(env, { model: "m2", token: "x", other: "y" }),
 *   { model: "m2" },
 * );
 * ```
 */
export function capsuleConfig(
  env: readonly EnvDef[],
  overrides: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.type === "secret") continue;
    const value = overrides !== undefined && Object.hasOwn(overrides, e.key)
      ? overrides[e.key]
      : e.default;
    if (typeof value === "string") out[e.key] = value;
  }
  return out;
}
