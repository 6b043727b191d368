// deno-lint-ignore-file no-console -- a command-line tool that prints its verdict
/**
 * Verifies an audit export (JSON lines from `AuditLog.exportJsonl()`) with
 * the standalone verifier, trusting only the public keys given.
 *
 * Usage:
 *
 * ```sh
 * deno run --allow-read tools/verify_audit.ts export.jsonl <pubkey-base64>... [--head <seq>:<hash>]
 * ```
 *
 * Prints the result as JSON; exits 0 for an intact chain, 1 for a bad chain,
 * 2 for a usage error. Uses `node:` APIs only, so it runs under Node too.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import {
  type ExportVerifyResult,
  verifyExportLines,
} from "../kernel/audit/standalone_verify.ts";

/** Parsed command line. */
interface Args {
  readonly file: string;
  readonly keys: string[];
  readonly head?: { readonly seq: number; readonly hash: string };
}

function parseArgs(argv: readonly string[]): Args | string {
  const rest = [...argv];
  let head: Args["head"];
  const at = rest.indexOf("--head");
  if (at >= 0) {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(rest[at + 1] ?? "");
    if (!m) return "--head expects <seq>:<64 hex hash>";
    head = { seq: Number(m[1]), hash: m[2]! };
    rest.splice(at, 2);
  }
  const [file, ...keys] = rest;
  if (file === undefined || keys.length === 0) {
    return "usage: verify_audit.ts <export.jsonl> <pubkey-base64>... [--head <seq>:<hash>]";
  }
  return head ? { file, keys, head } : { file, keys };
}

/**
 * Runs the tool.
 *
 * @param argv The arguments after the script name.
 * @returns The exit code.
 */
async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === "string") {
    console.error(args);
    return 2;
  }
  let result: ExportVerifyResult;
  try {
    const text = await readFile(args.file, "utf8");
    result = verifyExportLines(
      text.split("\n"),
      args.keys,
      args.head ? { expectedHead: args.head } : {},
    );
  } catch (err) {
    console.error(`Cannot verify ${args.file}: ${(err as Error).message}`);
    return 2;
  }
  console.log(JSON.stringify(result, null, 2));
  return result.valid ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
