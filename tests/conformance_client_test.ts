/**
 * The conformance suite's client scenarios (`@modelcontextprotocol/
 * conformance`) against Astrid's MCP client over Streamable HTTP: every
 * scenario outside OAuth must pass all its checks; the explained failures
 * are in `tests/conformance/client-baseline.yml` (the suite fails a run
 * whose outcome differs from the baseline, a stale entry included).
 */
import assert from "node:assert/strict";
import {
  baselineScenarios,
  listClientScenarios,
  runScenario,
} from "./conformance/_run_scenarios.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
};

Deno.test({
  name:
    "conformance: Astrid's MCP client passes every non-OAuth client scenario (initialize, tools_call, elicitation defaults, sse-retry, the 2026-07-28 ones)",
  permissions: PERMS,
  async fn() {
    const expected = await baselineScenarios();
    const scenarios = (await listClientScenarios()).filter(([name]) =>
      !name.startsWith("auth/")
    );
    const names = scenarios.map(([n]) => n);
    for (const core of ["initialize", "tools_call", "sse-retry"]) {
      assert.ok(names.includes(core), `the suite lists ${core}`);
    }
    const failed: string[] = [];
    for (const [name, versions] of scenarios) {
      const r = await runScenario(name, versions, expected);
      if (r.exitCode !== 0 || r.passed !== r.total) {
        failed.push(`${name}: ${r.passed}/${r.total} (exit ${r.exitCode})`);
      }
    }
    assert.deepEqual(failed, []);
  },
});
