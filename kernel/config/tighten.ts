/**
 * Tighten-only merging of the workspace layer: each key's `tighten` rule
 * decides whether the workspace value narrows the baseline (accepted) or
 * loosens it (reported as a widening).
 *
 * Security model: a workspace config comes from the repository the agent
 * works in, which may be hostile. It may make security settings stricter,
 * never looser; widening is an error (not a silent revert) so the user sees
 * the attempt. Deny-lists are unioned, allow-lists must stay within the
 * baseline (exact entries), `model.api_key`/`model.api_url` may not be set at
 * all so a repository cannot redirect or steal provider credentials.
 *
 * @module
 */
import type { ConfigKey, ConfigValue } from "./astrid_config.ts";
import type { ResolvedValue } from "./effective_config.ts";
import { type ConfigIssue, showValue } from "./issues.ts";
import type { ValidatedLayer } from "./layer.ts";
import { findKeySpec } from "./schema.ts";
import type { ConfigKeySpec } from "./schema_types.ts";

/** The baseline with the workspace applied, and every attempted widening. */
export interface WorkspaceMergeResult {
  /** The merged values (widened keys keep their baseline value). */
  readonly resolved: ReadonlyMap<ConfigKey, ResolvedValue>;
  /** One issue per widened key; the message names file, key and both values. */
  readonly widenings: readonly ConfigIssue[];
}

/**
 * Applies a validated workspace layer on top of the baseline under the
 * tighten rules of the schema.
 *
 * @param baseline Every key's value after defaults, env, system and user.
 * @param workspace The validated workspace layer.
 * @returns The merged values and the widenings (empty when all changes tighten).
 *
 * @example Reject a looser mode
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyWorkspaceLayer } from "./tighten.ts";
 * import { validateLayer } from "./layer.ts";
 * const baseline = new Map([["workspace.mode", { value: "guided", origin: { layer: "user", source: "/u.toml" } }]] as const);
 * const ws = validateLayer({ name: "workspace", source: "/w/.astrid/config.toml", values: { workspace: { mode: "yolo" } } });
 * const { widenings } = applyWorkspaceLayer(baseline, ws);
 * assert(widenings[0]?.message.includes("from 'guided' to 'yolo'"));
 * ```
 */
export function applyWorkspaceLayer(
  baseline: ReadonlyMap<ConfigKey, ResolvedValue>,
  workspace: ValidatedLayer,
): WorkspaceMergeResult {
  const resolved = new Map(baseline);
  const widenings: ConfigIssue[] = [];
  const { layer } = workspace;
  for (const [key, wsValue] of workspace.values) {
    const spec = findKeySpec(key);
    if (spec === undefined) {
      throw new TypeError(`Validated layer holds unknown key '${key}'`);
    }
    const base = baseline.get(key);
    const file = layer.keySources?.[key] ?? layer.source;
    const origin = { layer: layer.name, source: file };
    const sensitive = layer.sensitiveKeys?.includes(key) === true;
    const verdict = judge(spec, base?.value, wsValue);
    if (verdict.ok) {
      resolved.set(
        key,
        verdict.addedNothing === true && base !== undefined ? base : {
          value: verdict.value,
          origin,
          ...(sensitive ? { sensitive } : {}),
        },
      );
      continue;
    }
    const redact = spec.secret === true;
    const from = showValue(base?.value, redact || base?.sensitive === true);
    const to = showValue(wsValue, redact || sensitive);
    const echoes = spec.tighten === "subsetAllowList" && (redact || sensitive);
    const detail = verdict.why === undefined || echoes
      ? ""
      : ` (${verdict.why})`;
    const message = spec.tighten === "forbidden"
      ? `Workspace config ${file} cannot set ${key} (from ${from} to ${to}); only the system, user or env layer may set it`
      : `Workspace config ${file} cannot loosen ${key} from ${from} to ${to}${detail}`;
    widenings.push({ file, key, message });
  }
  return { resolved, widenings };
}

type Verdict =
  | { ok: true; value: ConfigValue; addedNothing?: boolean }
  | { ok: false; why?: string };

function judge(
  spec: ConfigKeySpec,
  base: ConfigValue,
  ws: ConfigValue,
): Verdict {
  const accept: Verdict = { ok: true, value: ws };
  switch (spec.tighten) {
    case "none":
      return accept;
    case "forbidden":
      return { ok: false };
    case "decrease": {
      if (base === undefined) return accept; // an absent optional cap means "no cap"
      const limit = (v: ConfigValue): number =>
        spec.zeroMeansUnlimited === true && v === 0 ? Infinity : Number(v);
      if (limit(ws) <= limit(base)) return accept;
      return ws === 0 && spec.zeroMeansUnlimited === true
        ? { ok: false, why: "0 means unlimited" }
        : { ok: false, why: "it may only decrease" };
    }
    case "increase":
      return Number(ws) >= Number(base)
        ? accept
        : { ok: false, why: "it may only increase" };
    case "boolToTrue":
      return base === true && ws === false
        ? { ok: false, why: "it may only become true" }
        : accept;
    case "boolToFalse":
      return base === false && ws === true
        ? { ok: false, why: "it may only become false" }
        : accept;
    case "enumOrder": {
      const order = spec.values ?? [];
      return order.indexOf(String(ws)) <= order.indexOf(String(base))
        ? accept
        : { ok: false, why: `order is ${order.join(" < ")}` };
    }
    case "unionDenyList": {
      const baseList = asList(base);
      const added = [...new Set(asList(ws))].filter((entry) =>
        !baseList.includes(entry)
      );
      return {
        ok: true,
        value: Object.freeze([...baseList, ...added]),
        addedNothing: added.length === 0,
      };
    }
    case "subsetAllowList": {
      const baseList = asList(base);
      const wsList = asList(ws);
      const emptyMeansAll = spec.emptyMeansAll === true;
      if (emptyMeansAll && baseList.length === 0) return accept;
      if (emptyMeansAll && wsList.length === 0) {
        return { ok: false, why: "an empty list allows everything" };
      }
      const extra = wsList.filter((entry) => !baseList.includes(entry));
      return extra.length === 0 ? accept : {
        ok: false,
        why: `entries not in the baseline: ${showValue(extra)}`,
      };
    }
  }
}

function asList(value: ConfigValue): readonly string[] {
  return Array.isArray(value) ? value : [];
}
