/**
 * `astrid keys show|generate`.
 *
 * @module
 */
import {
  generateRuntimeKey,
  kernelPaths,
  publicKeyToBase64,
  readRuntimeKey,
} from "../../mod.ts";
import type { KeyPair } from "../../mod.ts";
import { out, UsageError } from "../output.ts";
import type { GlobalFlags } from "../flags.ts";

/** Help text of `astrid keys`. */
export const KEYS_HELP =
  `astrid keys — the runtime key that signs capability tokens, audit entries and capsule install records

Usage:
  astrid keys show [--json]          key id and public key of $ASTRID_HOME/keys/runtime.key
  astrid keys generate [--force]     create the key (mode 0600); --force replaces an existing
                                     key, which invalidates every persistent token it signed
                                     and every capsule install record (reinstall the capsules)`;

function describe(key: KeyPair, file: string, json: boolean): string {
  const info = {
    keyId: key.keyId,
    publicKey: publicKeyToBase64(key.publicKey),
    file,
  };
  return json
    ? JSON.stringify(info, null, 2)
    : `key id:     ${info.keyId}\npublic key: ${info.publicKey}\nfile:       ${file}`;
}

/**
 * Runs `astrid keys <sub>`.
 *
 * @param args Arguments after `keys`.
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function keysCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  const sub = args[0];
  const file = kernelPaths().home.runtimeKey;
  if (sub === "show") {
    out(describe(await readRuntimeKey(), file, flags.json));
    return 0;
  }
  if (sub === "generate") {
    const key = await generateRuntimeKey({ overwrite: flags.force });
    out(describe(key, file, flags.json));
    return 0;
  }
  throw new UsageError(
    sub
      ? `Unknown keys subcommand '${sub}'`
      : "Missing keys subcommand (show, generate)",
  );
}
