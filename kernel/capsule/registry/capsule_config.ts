/**
 * The configuration a capsule sees (`config_get`, the handler context's
 * `config`): the `[env]` defaults of its manifest, overridden by the
 * operator's values for that capsule. Only keys the manifest declares, never
 * secrets (a secret reaches a capsule only as a `{{secret:NAME}}`
 * placeholder the kernel substitutes), and each value checked against the
 * declared type.
 *
 * @module
 */
import { KernelError } from "../../core/errors.ts";
import type { CapsuleManifest, EnvDef } from "../manifest/manifest_types.ts";

/** Operator values: capsule name → key → value. */
export type CapsuleConfigValues = Readonly<
  Record<string, Readonly<Record<string, string>>>
>;

function valid(def: EnvDef, value: string): boolean {
  switch (def.type) {
    case "integer":
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value));
    case "number":
      return value.trim() !== "" && Number.isFinite(Number(value));
    case "boolean":
      return value === "true" || value === "false";
    case "array":
      try {
        const v: unknown = JSON.parse(value);
        return Array.isArray(v) && v.every((x) => typeof x === "string");
      } catch {
        return false;
      }
    default:
      return def.enum_values.length === 0 || def.enum_values.includes(value);
  }
}

/**
 * The configuration of one capsule.
 *
 * @param manifest The capsule's manifest.
 * @param values The operator's values for every capsule (may be empty).
 * @returns Key → value.
 * @throws {KernelError} `CONFIG_INVALID` when an operator value names a key the
 *   manifest does not declare, a secret, or does not fit the declared type.
 *
 * @example Defaults, overridden
 * ```ts
 * import assert from "node:assert/strict";
 * import { capsuleConfig } from "./capsule_config.ts";
 * const manifest = { package: { name: "replay" }, env: [
 *   { key: "file", type: "string", request: "", enum_values: [], default: "a.json" },
 * ] } as never;
 * assert.deepEqual(capsuleConfig(manifest, {}), { file: "a.json" });
 * assert.deepEqual(capsuleConfig(manifest, { replay: { file: "b.json" } }), { file: "b.json" });
 * ```
 */
export function capsuleConfig(
  manifest: CapsuleManifest,
  values: CapsuleConfigValues,
): Record<string, string> {
  const name = manifest.package.name;
  const out: Record<string, string> = {};
  for (const e of manifest.env) {
    if (e.type !== "secret" && e.default !== undefined) out[e.key] = e.default;
  }
  const given = Object.hasOwn(values, name) ? values[name]! : {};
  for (const [key, value] of Object.entries(given)) {
    const def = manifest.env.find((e) => e.key === key);
    if (def === undefined || def.type === "secret") {
      throw new KernelError(
        "CONFIG_INVALID",
        `Cannot configure '${key}' of capsule '${name}': its manifest declares no such ${
          def ? "non-secret " : ""
        }[env] key`,
      );
    }
    if (typeof value !== "string" || !valid(def, value)) {
      throw new KernelError(
        "CONFIG_INVALID",
        `Cannot configure '${key}' of capsule '${name}': expected a ${def.type}${
          def.enum_values.length
            ? ` (one of ${def.enum_values.join(", ")})`
            : ""
        }`,
      );
    }
    out[key] = value;
  }
  return out;
}
