/**
 * End-to-end: a non-Deno MCP server (Python) runs only inside bubblewrap;
 * without it the capsule is refused unless installed `unconfined`.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import { createDenoSpawner } from "../kernel/host/deno_spawner.ts";
import { findBubblewrap } from "../kernel/capsule/sandbox/find_bwrap.ts";
import { PY_SERVER } from "../kernel/capsule/engines/mcp/_py_mcp_server_test.ts";
import { makeMcpRuntime, MCP_PERMS } from "./mcp_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

const BWRAP = await findBubblewrap(createDenoSpawner());

const PYTHON_CAPSULE = [
  "[package]",
  'name = "py-echo"',
  'version = "1.0.0"',
  "[capabilities]",
  'host_process = ["python3 server.py"]',
  "",
  "[[mcp_server]]",
  'id = "py"',
  'command = "python3"',
  'args = ["server.py"]',
  "",
].join("\n");

Deno.test({
  name:
    "mcp engine: a Python MCP server runs inside bubblewrap; its only writable dir is its scratch dir, the kernel's home is hidden",
  ignore: BWRAP === null,
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime({ bubblewrap: BWRAP });
    try {
      await f.install("py-echo", PYTHON_CAPSULE, { "server.py": PY_SERVER });
      const report = await f.boot();
      assert.deepEqual(report.refused, []);
      const r = await f.invoke("py-echo", "call_tool", {
        tool: "echo",
        arguments: { text: "hello from the sandbox" },
      }) as Obj;
      assert.equal(r.is_error, false);
      const log = path.join(
        f.home,
        "var",
        "mcp",
        f.runtime.session,
        "py-echo",
        "py",
        "calls.log",
      );
      assert.match(await Deno.readTextFile(log), /hello from the sandbox/);
      assert.ok(
        f.logger.records.some((x) => /confined by bwrap/.test(x.message)),
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine: without bubblewrap a non-Deno server is refused (HOST_PERMISSION_DENIED) unless the capsule was installed unconfined",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime({ bubblewrap: null });
    try {
      await f.install("py-echo", PYTHON_CAPSULE, { "server.py": PY_SERVER });
      const refused = await f.boot();
      assert.equal(refused.refused[0]?.code, "HOST_PERMISSION_DENIED");
      assert.match(refused.refused[0]!.reason, /bubblewrap/);
    } finally {
      await f.close();
    }
    const g = await makeMcpRuntime({ bubblewrap: null });
    try {
      await g.install("py-echo", PYTHON_CAPSULE, { "server.py": PY_SERVER }, {
        unconfined: true,
      });
      const report = await g.boot();
      assert.deepEqual(report.refused, []);
      const r = await g.invoke("py-echo", "call_tool", {
        tool: "echo",
        arguments: { text: "unconfined" },
      }) as Obj;
      assert.equal(r.is_error, false);
      assert.ok(
        g.logger.records.some((x) => /UNCONFINED/.test(x.message)),
        "running unconfined is logged as a warning",
      );
    } finally {
      await g.close();
    }
  },
});
