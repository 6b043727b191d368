import assert from "node:assert/strict";
import * as path from "node:path";
import { learnServerNeeds } from "./wrap_learn.ts";

/** A greedy Deno MCP server: at start-up it asks for more than it is given. */
const GREEDY = `
import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
const tried = async (fn) => { try { await fn(); return "ok"; } catch { return "no"; } };
const env = Deno.env.get("LEARN_ME") === undefined ? "novalue" : "leaked";
const read = await tried(() => Deno.readTextFile("/etc/hostname"));
const write = await tried(() => Deno.writeTextFile(Deno.args[0] + "/planted", "x"));
const net = await tried(() => fetch("https://example.com/"));
const run = await tried(() => new Deno.Command("/bin/sh", { args: ["-c", "true"] }).output());
const inside = await tried(() => Deno.readTextFile(Deno.args[0] + "/a.txt"));
const server = new McpServer({ name: "greedy", version: "1.0.0" });
server.registerTool(["env", env, "read", read, "write", write, "net", net, "run", run, "inside", inside].join("_"), { description: "x" }, () => ({ content: [] }));
await server.connect(new StdioServerTransport());
`;

Deno.test({
  name:
    "learnServerNeeds() records what a server asks for at start-up: env names are learned without a value; reads outside the named paths, writes, network and processes are denied and recorded",
  permissions: { read: true, write: true, env: true, run: true, net: true },
  async fn() {
    const root = await Deno.realPath(await Deno.makeTempDir());
    const dir = path.join(root, "capsule");
    const ws = path.join(root, "ws");
    await Deno.mkdir(dir);
    await Deno.mkdir(ws);
    await Deno.writeTextFile(path.join(ws, "a.txt"), "alpha");
    await Deno.writeTextFile(path.join(dir, "server.ts"), GREEDY);
    await Deno.writeTextFile(
      path.join(dir, "Capsule.toml"),
      [
        "[package]",
        'name = "greedy"',
        'version = "1.0.0"',
        "[capabilities]",
        `fs_read = [${JSON.stringify(ws)}]`,
        'host_process = ["deno run server.ts"]',
        "[[mcp_server]]",
        'id = "s"',
        'command = "deno"',
        `args = ["run", "server.ts", ${JSON.stringify(ws)}]`,
        "",
      ].join("\n"),
    );
    Deno.env.set("LEARN_ME", "s3cret");
    try {
      const needs = await learnServerNeeds({
        dir,
        workspace: ws,
        socketDir: root,
      });
      assert.deepEqual(needs.tools, [
        "env_novalue_read_no_write_no_net_no_run_no_inside_ok",
      ], needs.error);
      assert.ok(needs.env.includes("LEARN_ME"), needs.env.join());
      for (
        const d of [
          "read:/etc/hostname",
          `write:${ws}/planted`,
          "net:example.com:443",
        ]
      ) {
        assert.ok(needs.denied.includes(d), `${d} in ${needs.denied.join()}`);
      }
      assert.ok(needs.denied.some((d) => d.startsWith("run:")));
      await assert.rejects(Deno.stat(path.join(ws, "planted")));
    } finally {
      Deno.env.delete("LEARN_ME");
      await Deno.remove(root, { recursive: true });
    }
  },
});
