/**
 * `astrid secret set|exists <capsule> <NAME>`: a capsule's secrets (API
 * keys). The value is read from standard input, stored in the kernel's
 * store for the principal, and never shown again: a capsule only ever names
 * it as a `{{secret:NAME}}` placeholder, which the kernel substitutes into a
 * header value of a request to a host the capsule was granted, after a
 * `secret_use` gate decision.
 *
 * @module
 */
import * as path from "node:path";
import { KvSecretStore, parseCapsuleId, startKernel } from "../../mod.ts";
import type { GlobalFlags } from "../flags.ts";
import { out, UsageError, warnLogger } from "../output.ts";

/** Help text of `astrid secret`. */
export const SECRET_HELP = `astrid secret — a capsule's secrets (API keys)

Usage:
  printf %s "$KEY" | astrid secret set <capsule> <NAME>   store (value from stdin)
  astrid secret exists <capsule> <NAME>                    prints true/false

The value is never printed and never reaches the capsule: it may only write
{{secret:NAME}} in a header value, and the kernel substitutes it for a granted
host after a gate decision (audited). Examples:
  printf %s "$ANTHROPIC_API_KEY" | astrid secret set provider-anthropic ANTHROPIC_API_KEY
  printf %s "$OPENAI_API_KEY" | astrid secret set provider-openai OPENAI_API_KEY`;

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Deno.stdin.readable) {
    size += chunk.length;
    if (size > 64 * 1024) {
      throw new UsageError("The secret on stdin is larger than 64 KiB");
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all).replace(/\r?\n$/, "");
}

/**
 * Runs `astrid secret`.
 *
 * @param args `set|exists <capsule> <NAME>`.
 * @param flags Global flags.
 * @returns The exit code.
 */
export async function secretCommand(
  args: readonly string[],
  flags: GlobalFlags,
): Promise<number> {
  const [verb, capsuleRaw, name] = args;
  if (
    (verb !== "set" && verb !== "exists") || args.length !== 3 ||
    !NAME.test(name ?? "")
  ) {
    throw new UsageError(
      "Expected: astrid secret set|exists <capsule> <NAME> (NAME: letters, digits, _)",
    );
  }
  const capsule = parseCapsuleId(capsuleRaw);
  await using kernel = await startKernel({
    logger: warnLogger,
    ...(flags.workspace ? { workspace: path.resolve(flags.workspace) } : {}),
  });
  const store = new KvSecretStore(kernel.store, kernel.principal);
  if (verb === "exists") {
    const has = (await store.get(capsule, name!)) !== null;
    out(flags.json ? JSON.stringify({ exists: has }) : String(has));
    return 0;
  }
  if (Deno.stdin.isTerminal()) {
    throw new UsageError(
      "Pipe the value on stdin (it is never taken from the command line)",
    );
  }
  const value = await readStdin();
  if (value === "") throw new UsageError("The secret on stdin is empty");
  await store.set(capsule, name!, value);
  out(
    flags.json
      ? JSON.stringify({ ok: true })
      : `Stored secret ${name} for capsule ${capsule}`,
  );
  return 0;
}
