/**
 * `.ci/conformance-client`: runs every client scenario of the conformance
 * suite against Astrid's MCP client and writes `docs/conformance-client.md`.
 * Exits 1 when a scenario's outcome is not what the baseline says.
 *
 * @module
 */
import * as path from "node:path";
import {
  baselineScenarios,
  CONFORMANCE,
  listClientScenarios,
  runScenario,
  type ScenarioResult,
} from "./_run_scenarios.ts";

const encoder = new TextEncoder();
/** One line to stdout (the suite keeps it with the scenario's results). */
function say(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}

const OUT = path.join(
  import.meta.dirname ?? ".",
  "../../docs/conformance-client.md",
);
const WHY: Record<string, string> = {
  auth:
    "OAuth flows are out of scope: a remote server gets a static header from a `{{secret:NAME}}` placeholder",
};
const SKIPPED =
  "skipped by the suite (0 checks): a skills-extension (SEP-2640) host check; Astrid's client does not implement the skills extension";

const expected = await baselineScenarios();
const results: ScenarioResult[] = [];
for (const [scenario, versions] of await listClientScenarios()) {
  const r = await runScenario(scenario, versions, expected);
  results.push(r);
  say(
    `${scenario}: ${r.passed}/${r.total}${
      r.exitCode === 0 ? "" : " (UNEXPECTED)"
    }`,
  );
}
const row = (r: ScenarioResult) => {
  const ok = r.total > 0 && r.passed === r.total;
  const why = WHY[r.scenario.split("/")[0]!] ??
    WHY[r.scenario.split("-").slice(0, 2).join("-")] ?? "";
  const verdict = r.exitCode !== 0
    ? "**unexpected**"
    : r.total === 0
    ? SKIPPED
    : ok
    ? "pass"
    : `expected failure: ${why}`;
  return `| \`${r.scenario}\` | ${r.versions} | ${r.passed}/${r.total} | ${verdict} |`;
};
const passing = results.filter((r) => r.total > 0 && r.passed === r.total);
const md = [
  "# MCP conformance: Astrid's client",
  "",
  `\`${CONFORMANCE}\` client scenarios against \`tests/conformance/client.ts\``,
  "(`connectMcpClient` over Streamable HTTP). Regenerate with",
  "`.ci/conformance-client`; `tests/conformance_client_test.ts` runs the",
  "non-auth scenarios with the baseline `tests/conformance/client-baseline.yml`.",
  "",
  `${passing.length} of ${results.length} scenarios pass all their checks.`,
  "",
  "| scenario | spec versions | checks passed | result |",
  "| --- | --- | --- | --- |",
  ...results.map(row),
  "",
  "## Explained failures",
  "",
  "- `auth/*`: the OAuth 2.1 authorization flows (metadata discovery,",
  "  client registration, token endpoints, scopes, DPoP, …) are out of scope:",
  "  a remote `[[mcp_server]]` authenticates with a static header whose value",
  "  comes from a secret placeholder (`{{secret:NAME}}`, decided as",
  "  `secret_use`); the client never runs an OAuth flow, so these scenarios",
  "  end at the server's 401. Listed in the baseline.",
  "- `sep-2640-*`: skipped by the suite itself (0 checks) — they test a host",
  "  of the skills extension, which Astrid's client does not implement.",
  "",
].join("\n");
await Deno.writeTextFile(OUT, md);
say(`wrote ${OUT}`);
Deno.exit(results.every((r) => r.exitCode === 0) ? 0 : 1);
