/**
 * `astrid mcp wrap` end to end, as an MCP host uses it: a real MCP client
 * (`@modelcontextprotocol/sdk` `Client` over stdio) starts
 * `astrid mcp wrap -- npx -y @modelcontextprotocol/server-filesystem <dir>`
 * — the real CLI, the real daemon it starts, the real npm server under the
 * permission broker — reads inside the granted directory, is refused outside
 * it (by the server's own check, and by our confinement where the server
 * would allow it), and finds each call in an audit chain that verifies.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { createStdioTransport } from "../kernel/capsule/engines/mcp/client/stdio_transport.ts";
import {
  CLI_MAIN,
  CLI_PERMS,
  DENO_DIR,
  runAstrid,
} from "./cli_fixture_test.ts";
import { SERVERS } from "./mcp_fixture_test.ts";
import { tempHome } from "./daemon_fixture_test.ts";

const PERMS: Deno.PermissionOptionsObject = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: true,
};

/** server-filesystem's minimatch reads this name at startup. */
const MINIMATCH_ENV = "__MINIMATCH_TESTING_PLATFORM__";

interface Setup extends AsyncDisposable {
  readonly root: string;
  readonly ws: string;
  readonly docs: string;
  readonly env: Record<string, string>;
}

/**
 * A throwaway home with nothing installed (no distro: the wrapped capsule is
 * the only one), a workspace with `docs/a.txt` and `private/secret.txt`, and
 * `outside.txt` beside it.
 */
async function setup(): Promise<Setup> {
  // No human in this test: `guided` mode allows reads and the workspace;
  // the server's start-up env read is allowed by the install's approval
  // (a workspace allowance), so nothing waits for a human (the gate's
  // manifest, policy, budget and audit layers still decide every check). The
  // policy hard-denies private/** — an admin rule the server knows nothing of.
  const h = await tempHome(
    '[workspace]\nmode = "guided"\n\n[security.policy]\ndenied_paths = ["**/private/**"]\n',
  );
  const ws = h.workspace;
  const docs = path.join(ws, "docs");
  await Deno.mkdir(docs, { recursive: true });
  await Deno.mkdir(path.join(ws, "private"));
  await Deno.writeTextFile(path.join(docs, "a.txt"), "alpha");
  await Deno.writeTextFile(path.join(ws, "private/secret.txt"), "s3cret");
  await Deno.writeTextFile(path.join(h.dir, "outside.txt"), "outside");
  return {
    root: h.dir,
    ws,
    docs,
    env: { HOME: h.env["HOME"]!, ASTRID_HOME: h.env["ASTRID_HOME"]! },
    [Symbol.asyncDispose]: () => h[Symbol.asyncDispose](),
  };
}

async function connect(s: Setup, wrapArgs: readonly string[]) {
  // What an MCP host does with `"command": "astrid", "args": ["mcp", "wrap", …]`.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CLI_PERMS, CLI_MAIN, "mcp", "wrap", ...wrapArgs],
    cwd: s.ws,
    env: {
      ...s.env,
      DENO_DIR,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (t) => void (stderr += t) }),
  );
  const transport = createStdioTransport({
    stdin: child.stdin,
    stdout: child.stdout,
  });
  const client = new Client({ name: "wrap-test", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (err) {
    child.kill();
    await child.status;
    await drained;
    throw new Error(`connect failed: ${String(err)}\nstderr: ${stderr}`);
  }
  return {
    client,
    stderr: () => stderr,
    async close() {
      await client.close();
      const t = setTimeout(() => child.kill(), 5_000);
      await child.status;
      clearTimeout(t);
      await drained;
    },
  };
}

type ToolResult = { isError?: boolean; content: { text?: string }[] };

function textOf(r: ToolResult): string {
  return r.content.map((c) => c.text ?? "").join("\n");
}

async function readFile(
  client: Client,
  tools: readonly string[],
  file: string,
): Promise<ToolResult> {
  const name = tools.find((t) => /read_text_file$/.test(t));
  assert.ok(name, `no read_text_file among ${tools.join(", ")}`);
  return await client.callTool({
    name,
    arguments: { path: file },
  }) as ToolResult;
}

async function auditOf(s: Setup, capsule: string) {
  const exported = await runAstrid(["audit", "export"], {
    cwd: s.ws,
    env: s.env,
  });
  assert.equal(exported.code, 0, exported.stderr);
  const entries = exported.stdout.trim().split("\n").map((l) =>
    JSON.parse(l) as {
      capsule: string | null;
      decision: string;
      action: Record<string, unknown>;
    }
  );
  return entries.filter((e) => e.capsule === capsule);
}

Deno.test({
  name:
    "astrid mcp wrap --manifest: an MCP client reads inside the granted dir through the wrapped server-filesystem; a write the server allows but the manifest does not grant, and a read the server allows but the policy denies, are refused by our layer; a read outside the server's dir is refused by the server; all are in the audit chain, which verifies",
  permissions: PERMS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using s = await setup();
    {
      // A reviewed manifest NARROWER than the server's args: the server is
      // told the whole workspace to read AND write; the manifest grants
      // reading only. (server-filesystem stats each of its dirs at start-up,
      // so the read grant must cover the dir it is given.)
      const review = path.join(s.root, "review");
      await Deno.mkdir(review);
      const cmd = ["npx", "-y", SERVERS.filesystem, s.ws];
      await Deno.writeTextFile(
        path.join(review, "Capsule.toml"),
        [
          "[package]",
          'name = "files-wrapped"',
          'version = "1.0.0"',
          "[capabilities]",
          `fs_read = [${JSON.stringify(s.ws)}]`,
          `host_process = ["npx -y ${SERVERS.filesystem}"]`,
          `[env.${MINIMATCH_ENV}]`,
          'type = "string"',
          "[[mcp_server]]",
          'id = "server"',
          'command = "npx"',
          `args = ${JSON.stringify(cmd.slice(1))}`,
          "",
        ].join("\n"),
      );
      const args = ["--manifest", review, "--", ...cmd];
      const installed = await runAstrid(
        ["mcp", "wrap", "--install-only", "--yes", ...args],
        { cwd: s.ws, env: s.env },
      );
      assert.equal(installed.code, 0, installed.stderr);

      const { client, stderr, close } = await connect(s, args);
      try {
        const tools = (await client.listTools()).tools.map((
          t: { name: string },
        ) => t.name);
        const inside = await readFile(
          client,
          tools,
          path.join(s.docs, "a.txt"),
        );
        assert.equal(inside.isError ?? false, false, textOf(inside));
        assert.match(textOf(inside), /alpha/);

        const write = tools.find((t) => /write_file$/.test(t));
        assert.ok(write, tools.join());
        const written = await client.callTool({
          name: write,
          arguments: { path: path.join(s.docs, "new.txt"), content: "x" },
        }) as ToolResult;
        assert.equal(written.isError, true, textOf(written));
        await assert.rejects(Deno.stat(path.join(s.docs, "new.txt")));

        const confined = await readFile(
          client,
          tools,
          path.join(s.ws, "private/secret.txt"),
        );
        assert.equal(confined.isError, true, textOf(confined));
        assert.doesNotMatch(textOf(confined), /s3cret/);

        const outside = await readFile(
          client,
          tools,
          path.join(s.root, "outside.txt"),
        );
        assert.equal(outside.isError, true, textOf(outside));
        assert.doesNotMatch(textOf(outside), /^outside$/m);
      } catch (err) {
        throw new Error(`${String(err)}\nwrap stderr: ${stderr()}`);
      } finally {
        await close();
      }

      const secret = path.join(s.ws, "private/secret.txt");
      const audit = await auditOf(s, "files-wrapped");
      const checks = audit.filter((e) =>
        e.action["type"] === "mcp_permission_check"
      );
      assert.ok(
        checks.some((e) =>
          e.decision === "allowed" &&
          e.action["value"] === path.join(s.docs, "a.txt")
        ),
        "the read inside is in the chain",
      );
      assert.ok(
        checks.some((e) =>
          e.decision === "denied" && e.action["value"] === secret
        ),
        "the read the policy refused is in the chain",
      );
      assert.ok(
        checks.some((e) =>
          e.decision === "denied" &&
          e.action["permission"] === "write" &&
          e.action["value"] === path.join(s.docs, "new.txt")
        ),
        "the write the manifest does not grant is in the chain",
      );
      const calls = audit.filter((e) =>
        String(e.action["type"]).endsWith("tool_call")
      );
      assert.ok(calls.length >= 4, "every tool call is in the chain");
      const verify = await runAstrid(["audit", "verify"], {
        cwd: s.ws,
        env: s.env,
      });
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    }
  },
});

Deno.test({
  name:
    "astrid mcp wrap -- npx -y server-filesystem <dir>: the generated manifest confines the server to the named dir, outside the workspace too (installed once while a daemon runs: it restarts with the dir in its flags; then the host's one line)",
  permissions: PERMS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using s = await setup();
    {
      // A directory outside the workspace (the daemon's only root).
      const shared = path.join(s.root, "shared");
      await Deno.mkdir(shared);
      await Deno.writeTextFile(path.join(shared, "a.txt"), "alpha");
      const args = [
        "--env",
        MINIMATCH_ENV,
        "--",
        "npx",
        "-y",
        SERVERS.filesystem,
        shared,
      ];
      // A persistent daemon runs: the install stops it (it holds the store)
      // and starts it again with the new capsule's grants in its flags.
      const started = await runAstrid(["start"], { cwd: s.ws, env: s.env });
      assert.equal(started.code, 0, started.stderr);
      const installed = await runAstrid(
        ["mcp", "wrap", "--install-only", "--yes", ...args],
        { cwd: s.ws, env: s.env },
      );
      assert.equal(installed.code, 0, installed.stderr);
      assert.match(installed.stderr, /the daemon restarted/);
      const name = installed.stderr.match(/Capsule '([a-z0-9-]+)'/)?.[1];
      assert.ok(name, installed.stderr);
      const { client, stderr, close } = await connect(s, args);
      try {
        const tools = (await client.listTools()).tools.map((
          t: { name: string },
        ) => t.name);
        const inside = await readFile(
          client,
          tools,
          path.join(shared, "a.txt"),
        );
        assert.equal(inside.isError ?? false, false, textOf(inside));
        assert.match(textOf(inside), /alpha/);
        const secret = await readFile(
          client,
          tools,
          path.join(s.ws, "private/secret.txt"),
        );
        assert.equal(secret.isError, true);
        assert.doesNotMatch(textOf(secret), /s3cret/);
      } catch (err) {
        throw new Error(`${String(err)}\nwrap stderr: ${stderr()}`);
      } finally {
        await close();
      }
      const audit = await auditOf(s, name);
      assert.ok(
        audit.some((e) =>
          e.action["type"] === "mcp_permission_check" &&
          e.decision === "allowed" &&
          e.action["value"] === path.join(shared, "a.txt")
        ),
      );
      const verify = await runAstrid(["audit", "verify"], {
        cwd: s.ws,
        env: s.env,
      });
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    }
  },
});
