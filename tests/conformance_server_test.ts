/**
 * The server scenarios of `@modelcontextprotocol/conformance` against
 * `astrid mcp serve --http` (both runs of `tests/conformance/server_run.ts`):
 * fails on a failure that is not in `tests/conformance_server_baseline.yaml`
 * and on a baseline entry that passes again (the suite's own baseline check).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  BASELINE,
  RUNS,
  runSuite,
  startTarget,
} from "./conformance/server_run.ts";

Deno.test({
  name:
    "astrid mcp serve --http passes the conformance server scenarios except the explained failures of the baseline",
  permissions: {
    read: true,
    write: true,
    env: true,
    run: true,
    net: true,
  },
  async fn() {
    await using target = await startTarget();
    for (const run of RUNS) {
      const outDir = await Deno.makeTempDir({ prefix: "astrid-conformance-" });
      try {
        const result = await runSuite(target.url, outDir, {
          baseline: BASELINE,
          select: run.select,
        });
        assert.equal(
          result.code,
          0,
          `${run.name}: unexpected failures or stale baseline entries:\n${
            result.output.slice(-3000)
          }`,
        );
      } finally {
        await Deno.remove(outDir, { recursive: true });
      }
    }
  },
});
