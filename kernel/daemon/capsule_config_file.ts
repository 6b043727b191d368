/**
 * The operator's capsule configuration file, `$ASTRID_HOME/etc/capsules.toml`:
 * one table per capsule, its values for the keys the capsule's manifest
 * declares in `[env]` (e.g. a provider's `base_url` or `model`). The runtime
 * checks each value against the manifest (`capsule_config.ts`); secrets never
 * go here (`astrid secret set`).
 *
 * ```toml
 * [provider-openai]
 * base_url = "http://127.0.0.1:8000"
 * model = "llama-3.1-8b"
 * ```
 *
 * @module
 */
import { parse } from "smol-toml";
import { KernelError } from "../core/errors.ts";
import type { FileSystem } from "../core/ports.ts";
import type { CapsuleConfigValues } from "../capsule/registry/capsule_config.ts";

/** Its file name under `$ASTRID_HOME/etc`. */
export const CAPSULE_CONFIG_FILE = "capsules.toml";

/**
 * Reads the file; a missing file is no configuration.
 *
 * @param fs The host file system.
 * @param file Its path.
 * @returns Capsule name → key → value (numbers and booleans as text).
 * @throws {KernelError} `CONFIG_INVALID` naming the file and what is wrong.
 */
export async function readCapsuleConfigFile(
  fs: FileSystem,
  file: string,
): Promise<CapsuleConfigValues> {
  let text: string;
  try {
    text = await fs.readTextFile(file);
  } catch (err) {
    if (KernelError.is(err, "NOT_FOUND")) return {};
    throw err;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new KernelError(
      "CONFIG_INVALID",
      `Cannot read ${file}: ${err instanceof Error ? err.message : err}`,
    );
  }
  const out: Record<string, Record<string, string>> = {};
  for (const [capsule, table] of Object.entries(doc)) {
    if (table === null || typeof table !== "object" || Array.isArray(table)) {
      throw new KernelError(
        "CONFIG_INVALID",
        `${file}: [${capsule}] must be a table of the capsule's [env] keys`,
      );
    }
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(table)) {
      if (Array.isArray(value)) {
        values[key] = JSON.stringify(value);
      } else if (
        typeof value === "string" || typeof value === "number" ||
        typeof value === "boolean"
      ) {
        values[key] = String(value);
      } else {
        throw new KernelError(
          "CONFIG_INVALID",
          `${file}: ${capsule}.${key} must be a string, number, boolean or array`,
        );
      }
    }
    out[capsule] = values;
  }
  return out;
}
