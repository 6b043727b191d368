import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { type OptionSpec, parseArgv } from "./argv.ts";

const OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h" },
  yes: { type: "boolean", short: "y" },
  print: { type: "boolean", short: "p" },
  json: { type: "boolean" },
  workspace: { type: "string", short: "w" },
  session: { type: "string" },
  var: { type: "string", multiple: true },
};

const CASES: string[][] = [
  [],
  ["a", "b"],
  ["-p", "hello world", "--yes"],
  ["-yp", "x"],
  ["-w", "dir", "--json"],
  ["-wdir"],
  ["--workspace=dir", "--session", "s1"],
  ["--workspace="],
  ["--var", "a=1", "--var=b=2"],
  ["--", "--json", "-p"],
  ["-", "x"],
  ["-py", "-w", "d", "cmd", "--help"],
  // errors
  ["--nope"],
  ["-z"],
  ["--json=1"],
  ["--session"],
  ["-w"],
  ["-w", "--json"],
  ["--session", "-x"],
  ["-yw"],
];

function node(args: string[]) {
  try {
    const r = parseArgs({
      args,
      options: OPTIONS as NonNullable<
        Parameters<typeof parseArgs>[0]
      >["options"],
      strict: true,
      allowPositionals: true,
    });
    return { values: { ...r.values }, positionals: r.positionals };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function ours(args: string[]) {
  try {
    return parseArgv(args, OPTIONS);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

Deno.test("parseArgv agrees with node:util parseArgs (strict) on values, positionals and errors", () => {
  for (const args of CASES) {
    const a = node(args);
    const b = ours(args);
    if ("error" in a) {
      assert.ok("error" in b, `expected an error for ${JSON.stringify(args)}`);
      continue;
    }
    assert.deepEqual(b, a, JSON.stringify(args));
  }
});
