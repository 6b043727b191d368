/**
 * What `astrid init` asks before and applies after a distro install: which
 * alternatives of a group to install (e.g. which LLM providers), the values of
 * the distro's `{{ variable }}`s, and where each resulting capsule setting
 * goes — a key the capsule's manifest declares as a secret into the secret
 * store, every other key into `$ASTRID_HOME/etc/capsules.toml` (merged, written
 * atomically with mode 0600).
 *
 * @module
 */
import * as path from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { KernelError } from "../core/errors.ts";
import type { CapsuleId } from "../core/ids.ts";
import type { Distro, DistroCapsule } from "./distro.ts";
import type { KernelHandle } from "./boot.ts";
import { CAPSULE_CONFIG_FILE } from "./capsule_config_file.ts";
import { KvSecretStore } from "./kv_secrets.ts";
import { parseManifest } from "../capsule/manifest/parse_manifest.ts";
import type { EnvDef } from "../capsule/manifest/manifest_types.ts";
import { VERSION } from "../../version.ts";

const VAR_REF = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/**
 * The groups of alternatives of a distro (only groups of two or more).
 *
 * @param distro The distro.
 * @returns Group name → its capsules, in distro order.
 */
export function distroGroups(distro: Distro): Map<string, DistroCapsule[]> {
  const groups = new Map<string, DistroCapsule[]>();
  for (const c of distro.capsules) {
    if (c.group === undefined) continue;
    groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  }
  for (const [g, list] of groups) if (list.length < 2) groups.delete(g);
  return groups;
}

/**
 * The capsules to install: every capsule outside the groups, and of each
 * group the picked ones (a group without a pick: all of it).
 *
 * @param distro The distro.
 * @param picks Group name → picked capsule names.
 * @returns The picked capsule names.
 * @throws {KernelError} `INVALID_INPUT` naming a pick that is not in its
 *   group, an unknown group, or a group picked empty.
 */
export function pickCapsules(
  distro: Distro,
  picks: Readonly<Record<string, readonly string[]>>,
): Set<string> {
  const groups = distroGroups(distro);
  const picked = new Set<string>();
  for (const [group, names] of Object.entries(picks)) {
    const members = groups.get(group);
    if (members === undefined) {
      throw new KernelError(
        "INVALID_INPUT",
        `The distro has no group '${group}' (groups: ${
          [...groups.keys()].join(", ") || "none"
        })`,
      );
    }
    if (names.length === 0) {
      throw new KernelError(
        "INVALID_INPUT",
        `Pick at least one of group '${group}'`,
      );
    }
    for (const n of names) {
      if (!members.some((m) => m.name === n)) {
        throw new KernelError(
          "INVALID_INPUT",
          `'${n}' is not in group '${group}' (choose from ${
            members.map((m) => m.name).join(", ")
          })`,
        );
      }
    }
  }
  for (const c of distro.capsules) {
    const group = c.group !== undefined && groups.has(c.group)
      ? c.group
      : undefined;
    const pick = group === undefined ? undefined : picks[group];
    if (pick === undefined || pick.includes(c.name)) picked.add(c.name);
  }
  return picked;
}

/**
 * The variables the picked capsules' templates use, in order of first use.
 *
 * @param distro The distro.
 * @param picked The picked capsule names.
 * @returns Variable names.
 */
export function usedVariables(
  distro: Distro,
  picked: ReadonlySet<string>,
): string[] {
  const used: string[] = [];
  for (const c of distro.capsules) {
    if (!picked.has(c.name)) continue;
    for (const template of Object.values(c.env)) {
      for (const m of template.matchAll(VAR_REF)) {
        if (!used.includes(m[1]!)) used.push(m[1]!);
      }
    }
  }
  return used;
}

/** One capsule setting made from a distro template. */
export interface CapsuleSetting {
  /** The capsule. */
  readonly capsule: string;
  /** The `[env]` key of its manifest. */
  readonly key: string;
  /** The value, templates resolved. */
  readonly value: string;
}

/**
 * Fills the picked capsules' `env` templates with variable values
 * (a value given, else the variable's default).
 *
 * @param distro The distro.
 * @param picked The picked capsule names.
 * @param values Variable name → value.
 * @returns The settings.
 * @throws {KernelError} `INVALID_INPUT` naming every variable without a
 *   value or a default.
 */
export function resolveSettings(
  distro: Distro,
  picked: ReadonlySet<string>,
  values: Readonly<Record<string, string>>,
): CapsuleSetting[] {
  const missing = usedVariables(distro, picked).filter((v) =>
    !Object.hasOwn(values, v) && distro.variables[v]?.default === undefined
  );
  if (missing.length > 0) {
    throw new KernelError(
      "INVALID_INPUT",
      `No value for ${
        missing.map((m) => `'${m}'`).join(", ")
      }: pass --var NAME=VALUE or set ASTRID_VAR_<NAME>`,
    );
  }
  const settings: CapsuleSetting[] = [];
  for (const c of distro.capsules) {
    if (!picked.has(c.name)) continue;
    for (const [key, template] of Object.entries(c.env)) {
      const value = template.replace(
        VAR_REF,
        (_, v: string) =>
          Object.hasOwn(values, v) ? values[v]! : distro.variables[v]!.default!,
      );
      settings.push({ capsule: c.name, key, value });
    }
  }
  return settings;
}

/**
 * The `[env]` declarations of an installed capsule.
 *
 * @param kernel The kernel.
 * @param capsule The capsule's name.
 * @returns Its declarations, or `[]` when it is not installed.
 */
export async function installedEnv(
  kernel: KernelHandle,
  capsule: string,
): Promise<EnvDef[]> {
  const file = path.join(
    kernel.home.home(kernel.principal).capsules,
    capsule,
    "Capsule.toml",
  );
  let text: string;
  try {
    text = await kernel.ports.fs.readTextFile(file);
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return [];
    throw err;
  }
  const parsed = parseManifest(text, { file, kernelVersion: VERSION });
  return parsed.ok ? [...parsed.value.env] : [];
}

/**
 * Stores settings where they belong: a key the installed capsule declares
 * as a secret in the secret store, any other declared key in
 * `capsules.toml` (merged with what is there).
 *
 * @param kernel The kernel.
 * @param settings The settings.
 * @returns How many went to each place.
 * @throws {KernelError} `CONFIG_INVALID` for a key the capsule does not declare.
 */
export async function applySettings(
  kernel: KernelHandle,
  settings: readonly CapsuleSetting[],
): Promise<{ secrets: number; config: number }> {
  const secrets = new KvSecretStore(kernel.store, kernel.principal);
  const config: CapsuleSetting[] = [];
  let secretCount = 0;
  for (const s of settings) {
    const def = (await installedEnv(kernel, s.capsule)).find((d) =>
      d.key === s.key
    );
    if (def === undefined) {
      throw new KernelError(
        "CONFIG_INVALID",
        `The distro sets ${s.capsule}.${s.key}, which the capsule does not declare in [env]`,
      );
    }
    if (def.type === "secret") {
      await secrets.set(s.capsule as CapsuleId, s.key, s.value);
      secretCount++;
    } else config.push(s);
  }
  if (config.length > 0) await writeCapsuleConfig(kernel, config);
  return { secrets: secretCount, config: config.length };
}

/**
 * Merges values into `$ASTRID_HOME/etc/capsules.toml` (atomic, 0600).
 *
 * @param kernel The kernel.
 * @param settings The values.
 */
export async function writeCapsuleConfig(
  kernel: KernelHandle,
  settings: readonly CapsuleSetting[],
): Promise<void> {
  const { fs } = kernel.ports;
  const file = path.join(kernel.home.etc, CAPSULE_CONFIG_FILE);
  let doc: Record<string, Record<string, unknown>> = {};
  try {
    doc = parseToml(await fs.readTextFile(file)) as typeof doc;
  } catch (err) {
    if (!KernelError.is(err, "NOT_FOUND")) {
      throw new KernelError(
        "CONFIG_INVALID",
        `Cannot update ${file}: ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  for (const s of settings) {
    const table = doc[s.capsule];
    doc[s.capsule] = { ...(table ?? {}), [s.key]: s.value };
  }
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  await fs.writeFile(
    tmp,
    new TextEncoder().encode(
      `# Capsule settings (astrid init, or by hand): [capsule] key = value\n${
        stringifyToml(doc)
      }\n`,
    ),
    { mode: 0o600 },
  );
  await fs.rename(tmp, file);
}

/** A secret an installed capsule asks for (`[env.X] type = "secret"`). */
export interface SecretRequest {
  /** The capsule. */
  readonly capsule: string;
  /** The secret's name. */
  readonly key: string;
  /** The manifest's prompt text. */
  readonly request: string;
}

/**
 * The secrets the given installed capsules declare and that are not set yet.
 *
 * @param kernel The kernel.
 * @param capsules Capsule names.
 * @returns The open requests.
 */
export async function openSecretRequests(
  kernel: KernelHandle,
  capsules: Iterable<string>,
): Promise<SecretRequest[]> {
  const secrets = new KvSecretStore(kernel.store, kernel.principal);
  const out: SecretRequest[] = [];
  for (const capsule of capsules) {
    for (const def of await installedEnv(kernel, capsule)) {
      if (def.type !== "secret") continue;
      if ((await secrets.get(capsule as CapsuleId, def.key)) !== null) continue;
      out.push({ capsule, key: def.key, request: def.request });
    }
  }
  return out;
}
