/**
 * `astrid cluster status` in-process against an API over a single-node
 * kernel: the text form says "not clustered", the store answers, NATS is not
 * configured; a usage error names the command.
 */
import assert from "node:assert/strict";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import { startKernel } from "../kernel/daemon/boot.ts";
import { createSessionHub } from "../kernel/turn/session_hub.ts";
import { createApi } from "../kernel/api/api.ts";
import { ApiClient } from "../kernel/api/client.ts";
import { engineStatuses } from "../kernel/server/engines.ts";
import { setupCluster } from "../kernel/server/cluster_setup.ts";
import { clusterCommand } from "../cli/commands/cluster.ts";
import { parseFlags } from "../cli/flags.ts";

Deno.test("astrid cluster status on a single node: 'not clustered', the store reachable, NATS not configured; --json is the API's answer; a wrong subcommand is a usage error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = new MemoryEnv({ ASTRID_HOME: dir, HOME: dir });
    await using kernel = await startKernel({
      env,
      ignoreSystemConfig: true,
      logger: new MemoryLogger(),
    });
    const cluster = await setupCluster(kernel, { mode: "socket", env });
    const hub = await createSessionHub(kernel, { roots: [], env });
    const router = createApi({
      kernel,
      hub,
      mode: "socket",
      startedAt: 0,
      idleTimeoutMs: null,
      engines: engineStatuses(false),
      shutdown: () => {},
      cluster: cluster.status,
    });
    using client = new ApiClient({
      handler: router.handler({ token: () => "t" }),
    }, "t");
    const lines: string[] = [];
    const io = {
      out: (l: string) => lines.push(l),
      err: () => {},
      stdin: () => Promise.resolve(null),
      ask: () => null,
      cwd: dir,
      realPath: (p: string) => Deno.realPath(p),
    };
    assert.equal(
      await clusterCommand(client, ["status"], parseFlags([]).flags, io),
      0,
    );
    assert.match(lines[0]!, /^not clustered/);
    assert.match(lines.join("\n"), /store: reachable/);
    assert.match(lines.join("\n"), /nats: not configured/);
    lines.length = 0;
    assert.equal(
      await clusterCommand(
        client,
        ["status"],
        parseFlags(["--json"]).flags,
        io,
      ),
      0,
    );
    assert.equal(JSON.parse(lines[0]!).clustered, false);
    await assert.rejects(
      clusterCommand(client, ["nodes"], parseFlags([]).flags, io),
      /astrid cluster status/,
    );
    await hub.close();
    await cluster.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
