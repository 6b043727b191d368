/**
 * End-to-end, issue 11 finding 3 ("MCP server code is not pinned") and the
 * MCP side of finding 2, through the real runtime and real Deno MCP servers:
 * - the install record pins a `deno run server.ts` server's script and its
 *   local imports; a script or import edited, or a file added, after install
 *   is refused at boot naming the file, and at every restart;
 * - a broker-mode server whose manifest grants `$ASTRID_HOME/keys` cannot
 *   read the runtime key (nor its own install record), and the gate's denial
 *   is audited; a flags-mode one (whose `--allow-read` cannot exclude the
 *   home) is refused before launch, and that is audited.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import {
  denoServerManifest,
  makeMcpRuntime,
  MCP_PERMS,
  toolText,
} from "./mcp_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

const SERVER = `
import { McpServer } from "npm:@modelcontextprotocol/sdk@1.32.2/server/mcp.js";
import { StdioServerTransport } from "npm:@modelcontextprotocol/sdk@1.32.2/server/stdio.js";
import { z } from "npm:zod@4.6.7";
import { greeting } from "./lib/greeting.ts";
const server = new McpServer({ name: "pinned", version: "1.0.0" });
server.registerTool("run", {
  description: "Greets, reads a file, or tells its pid",
  inputSchema: { what: z.string(), arg: z.string().optional() },
}, async ({ what, arg }) => {
  let text;
  try {
    if (what === "link") {
      const [target, at] = arg.split("|");
      await Deno.symlink(target, at);
      text = "ok:linked";
    } else {
      text = what === "greet" ? greeting : what === "pid" ? String(Deno.pid)
        : "ok:" + await Deno.readTextFile(arg);
    }
  } catch (e) {
    text = "err:" + (e?.name ?? "Error");
  }
  return { content: [{ type: "text", text }] };
});
await server.connect(new StdioServerTransport());
`;

const LIB = `export const greeting = "hello from the pinned import";\n`;

function manifest(
  name: string,
  capabilities: readonly string[] = [],
  mode: "broker" | "flags" = "broker",
): string {
  return denoServerManifest(name, { id: "pinned", mode, capabilities });
}

function run(
  f: { invoke(c: string, a: string, p?: JsonValue): Promise<JsonValue> },
  capsule: string,
  what: string,
  arg?: string,
): Promise<string> {
  return toolText(
    f,
    capsule,
    "run",
    arg === undefined ? { what } : { what, arg },
  );
}

Deno.test({
  name:
    "mcp engine: a server script or local import edited, or a file added, after install is refused at boot naming the file",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime();
    try {
      const files = { "server.ts": SERVER, "lib/greeting.ts": LIB };
      const dirs: Record<string, string> = {};
      for (const name of ["good", "script", "import", "added"]) {
        dirs[name] = await f.install(name, manifest(name), files);
      }
      const meta = JSON.parse(
        await Deno.readTextFile(path.join(dirs.good!, "meta.json")),
      );
      assert.deepEqual(Object.keys(meta.artifacts).sort(), [
        "Capsule.toml",
        "lib/greeting.ts",
        "server.ts",
      ]);
      await Deno.writeTextFile(
        path.join(dirs.script!, "server.ts"),
        `${SERVER}\nconsole.error("pwned");\n`,
      );
      await Deno.writeTextFile(
        path.join(dirs.import!, "lib/greeting.ts"),
        `export const greeting = "pwned";\n`,
      );
      await Deno.writeTextFile(path.join(dirs.added!, "lib/extra.ts"), "1;\n");
      const report = await f.boot();
      assert.deepEqual(report.loaded, ["good"]);
      const refused = Object.fromEntries(
        report.refused.map((r) => [r.capsule, r]),
      );
      assert.equal(refused.script?.code, "CAPSULE_INTEGRITY");
      assert.match(refused.script!.reason, /artifact server\.ts hash differs/);
      assert.equal(refused.import?.code, "CAPSULE_INTEGRITY");
      assert.match(
        refused.import!.reason,
        /artifact lib\/greeting\.ts hash differs/,
      );
      assert.equal(refused.added?.code, "CAPSULE_INTEGRITY");
      assert.match(refused.added!.reason, /file lib\/extra\.ts appeared/);
      assert.equal(
        await run(f, "good", "greet"),
        "hello from the pinned import",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "mcp engine: an import edited while the server runs is refused at every restart, and the registry's reload refuses it too",
  permissions: MCP_PERMS,
  async fn() {
    const f = await makeMcpRuntime();
    try {
      const dir = await f.install("live", manifest("live"), {
        "server.ts": SERVER,
        "lib/greeting.ts": LIB,
      });
      assert.deepEqual((await f.boot()).refused, []);
      const pid = Number(await run(f, "live", "pid"));
      assert.ok(pid > 0);
      await Deno.writeTextFile(
        path.join(dir, "lib/greeting.ts"),
        `export const greeting = "pwned";\n`,
      );
      Deno.kill(pid, "SIGKILL");
      const id = "live" as CapsuleId;
      for (
        let i = 0;
        i < 200 && f.runtime.registry.health(id)?.status !== "failed";
        i++
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(f.runtime.registry.health(id)?.status, "failed");
      const refusals = f.logger.records.filter((r) =>
        /failed to restart: .*lib\/greeting\.ts hash differs/.test(r.message)
      );
      assert.ok(refusals.length >= 1, "every restart is refused");
      // Each refused relaunch is audited.
      const audited = (await f.kernel.security.audit.query({
        principal: f.kernel.principal,
        capsule: id,
        decision: "denied",
      })).filter((e) => (e.action as Obj).type === "capsule_load");
      assert.ok(audited.length >= 1);
      assert.match(JSON.stringify(audited[0]!.proof), /lib\/greeting\.ts/);
      // The edited import never ran.
      assert.ok(
        !f.logger.records.some((r) => r.message.includes("pwned")),
      );
      // The registry's own supervision reloads it: refused as well.
      await f.runtime.registry.supervise();
      assert.equal(f.runtime.registry.health(id), undefined);
      assert.ok(
        f.logger.records.some((r) =>
          r.message === "capsule restart failed" &&
          String(r.fields.reason).includes("lib/greeting.ts")
        ),
      );
    } finally {
      await f.close();
    }
  },
});

for (const mode of ["broker", "flags"] as const) {
  Deno.test({
    name:
      `mcp engine (${mode}): a server granted $ASTRID_HOME/keys cannot read the runtime key or its own install record, and the denial is audited`,
    permissions: MCP_PERMS,
    async fn() {
      const f = await makeMcpRuntime();
      try {
        const keys = path.join(f.home, "keys");
        await Deno.mkdir(path.join(f.workspace, "docs"));
        const dir = await f.install(
          "thief",
          manifest("thief", [
            `fs_read = [${JSON.stringify(keys)}, ${
              JSON.stringify(f.home)
            }, "cwd://docs"]`,
            'fs_write = ["cwd://docs"]',
          ], mode),
          { "server.ts": SERVER, "lib/greeting.ts": LIB },
        );
        const report = await f.boot();
        if (mode === "flags") {
          // Deno's --allow-read cannot exclude the home: refused before launch.
          assert.deepEqual(report.loaded, []);
          assert.equal(report.refused[0]?.code, "POLICY_BLOCKED");
          assert.match(report.refused[0]!.reason, /flags mode .*ASTRID_HOME/);
          const entries = await f.kernel.security.audit.query({
            principal: f.kernel.principal,
            capsule: "thief" as CapsuleId,
            decision: "denied",
          });
          assert.equal((entries[0]?.action as Obj).type, "capsule_load");
          return;
        }
        assert.deepEqual(report.refused, []);
        // A symlink planted in a writable granted dir, pointing at the key.
        const link = path.join(f.workspace, "docs", "k");
        const linked = await run(
          f,
          "thief",
          "link",
          `${path.join(keys, "runtime.key")}|${link}`,
        );
        // Deno asks for write access to everything to make a symlink: refused.
        assert.equal(linked, "err:NotCapable");
        assert.match(await run(f, "thief", "read", link), /^err:/);
        for (
          const p of [
            path.join(keys, "runtime.key"),
            `${keys}/./runtime.key`,
            path.join(dir, "meta.json"),
          ]
        ) {
          assert.equal(await run(f, "thief", "read", p), "err:NotCapable", p);
        }
        const denied = (await f.audit("thief")).filter((e) =>
          (e.action as Obj).type === "mcp_permission_check" &&
          e.decision === "denied"
        );
        assert.ok(denied.length >= 1);
        const inHome = denied.filter((e) =>
          String((e.action as Obj).value).startsWith(f.home)
        );
        assert.equal(inHome.length, 3);
        for (const e of inHome) {
          assert.match(JSON.stringify(e.proof), /ASTRID_HOME/);
        }
      } finally {
        await f.close();
      }
    },
  });
}
