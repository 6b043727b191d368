// deno-lint-ignore-file no-console -- an installer that reports what it does
/**
 * `deno task install [--root DIR]`: installs the `astrid` command with
 * `deno install -g`, under the CLI's own narrow flags (`cliFlags`: every
 * executable it may start is named; no FFI, no `--allow-sys`, no remote
 * imports, no prompts), with this checkout's `deno.json` (unstable features,
 * npm imports, lock). `DENO_INSTALL_ROOT` or `--root` picks where the shim
 * goes (default `~/.deno/bin`). Re-run it after moving the checkout or
 * upgrading Deno to another path: the shim names both.
 *
 * @module
 */
import * as path from "node:path";
import { cliFlags } from "../mod.ts";

const root = path.resolve(import.meta.dirname ?? ".", "..");
const flags = cliFlags(Deno.execPath());
const args = [
  "install",
  "-g",
  "-f",
  "-n",
  "astrid",
  "--config",
  path.join(root, "deno.json"),
  ...flags.args,
  ...Deno.args,
  path.join(root, "cli", "main.ts"),
];
console.error(`astrid: deno ${args.join(" ")}`);
for (const e of flags.run) console.error(`  run ${e.value}: ${e.reason}`);
for (const [k, why] of Object.entries(flags.open)) {
  console.error(`  ${k} (open): ${why}`);
}
const status = await new Deno.Command("deno", { args }).spawn().status;
Deno.exit(status.code);
