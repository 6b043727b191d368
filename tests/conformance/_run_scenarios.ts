/**
 * Runs `@modelcontextprotocol/conformance` client scenarios against
 * Astrid's MCP client (`tests/conformance/client.ts`), one scenario at a
 * time, with the baseline of explained failures
 * (`tests/conformance/client-baseline.yml`).
 *
 * @module
 */
import * as path from "node:path";

/** The pinned conformance suite. */
export const CONFORMANCE =
  "npm:@modelcontextprotocol/conformance@0.2.0-alpha.12";
const HERE = import.meta.dirname ?? ".";
/** The baseline of explained failures. */
export const BASELINE = path.join(HERE, "client-baseline.yml");

/** The outcome of one scenario. */
export interface ScenarioResult {
  readonly scenario: string;
  /** Spec versions the suite lists for it. */
  readonly versions: string;
  readonly passed: number;
  readonly total: number;
  /** Whether the baseline lists it as an expected failure. */
  readonly expectedFailure: boolean;
  /** The suite's exit code with the baseline (0: as expected). */
  readonly exitCode: number;
}

async function deno(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    text: text.decode(out.stdout) + text.decode(out.stderr),
  };
}

/**
 * The client scenarios the suite lists, with their spec versions.
 *
 * @returns `[name, versions]` pairs in the suite's order.
 */
export async function listClientScenarios(): Promise<[string, string][]> {
  const { text } = await deno(["run", "-A", CONFORMANCE, "list"]);
  const section = text.split(/Client scenarios[^\n]*\n/)[1]?.split(/\n\n/)[0];
  return (section ?? "").split("\n").flatMap((line) => {
    const m = /^\s+- (\S+) \[([^\]]*)\]/.exec(line);
    return m ? [[m[1]!, m[2]!] as [string, string]] : [];
  });
}

/** The scenario names the baseline lists under `client:`. */
export async function baselineScenarios(): Promise<Set<string>> {
  const text = await Deno.readTextFile(BASELINE);
  return new Set(
    [...text.matchAll(/^\s+- ([^\s#]+)/gm)].map((m) => m[1]!),
  );
}

/**
 * Runs one client scenario against `tests/conformance/client.ts`.
 *
 * @param scenario The scenario name.
 * @param versions Its spec versions (for the report).
 * @param expected The baseline's scenarios.
 * @returns Its checks and exit code.
 */
export async function runScenario(
  scenario: string,
  versions: string,
  expected: ReadonlySet<string>,
): Promise<ScenarioResult> {
  const out = await Deno.makeTempDir({ prefix: "astrid-conformance-" });
  try {
    const client = `${Deno.execPath()} run -A ${path.join(HERE, "client.ts")}`;
    const { code, text } = await deno([
      "run",
      "-A",
      CONFORMANCE,
      "client",
      "--command",
      client,
      "--scenario",
      scenario,
      "--expected-failures",
      BASELINE,
      "-o",
      out,
    ]);
    const m = /Passed: (\d+)\/(\d+)/.exec(text);
    return {
      scenario,
      versions,
      passed: Number(m?.[1] ?? 0),
      total: Number(m?.[2] ?? 0),
      expectedFailure: expected.has(scenario),
      exitCode: code,
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
