/**
 * `astrid config show|validate|paths`.
 *
 * @module
 */
import { kernelPaths, readKernelConfig } from "../../mod.ts";
import { out, table, UsageError } from "../output.ts";
import type { GlobalFlags } from "../flags.ts";

/** Help text of `astrid config`. */
export const CONFIG_HELP = `astrid config — inspect the layered configuration

Usage:
  astrid config show [--json] [--workspace DIR]   every effective value and the layer that set it
  astrid config validate [--workspace DIR]        check every layer; exit 1 with all issues
  astrid config paths [--workspace DIR]           the files of each layer

Layers, lowest first: built-in defaults < ASTRID_* environment < /etc/astrid/config.toml
< $ASTRID_HOME/etc/config.toml < <workspace>/.astrid/config.toml (may only tighten security).`;

/**
 * Runs `astrid config <sub>`.
 *
 * @param args Arguments after `config`.
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function configCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  const sub = args[0];
  const opts = flags.workspace ? { workspace: flags.workspace } : {};
  if (sub === "show") {
    const config = await readKernelConfig(opts);
    const entries = config.entries();
    if (flags.json) {
      out(JSON.stringify(entries, null, 2));
    } else {
      out(table([
        ["KEY", "VALUE", "LAYER", "SOURCE"],
        ...entries.map((
          e,
        ) => [e.key, JSON.stringify(e.value), e.layer, e.source]),
      ]));
    }
    return 0;
  }
  if (sub === "validate") {
    await readKernelConfig(opts);
    out(
      "config: ok (every layer parsed, validated and tighten-only checked)",
    );
    return 0;
  }
  if (sub === "paths") {
    const p = kernelPaths(opts);
    const rows = [
      ["LAYER", "FILE"],
      ["system", p.configFiles.system ?? "(ignored)"],
      ["user", p.configFiles.user],
      ["workspace", p.configFiles.workspace ?? "(no --workspace given)"],
    ];
    out(
      flags.json ? JSON.stringify(p.configFiles, null, 2) : table(rows),
    );
    return 0;
  }
  throw new UsageError(
    sub
      ? `Unknown config subcommand '${sub}'`
      : "Missing config subcommand (show, validate, paths)",
  );
}
