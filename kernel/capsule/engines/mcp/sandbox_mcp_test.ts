import assert from "node:assert/strict";
import { KernelError } from "../../../core/errors.ts";
import { createDenoSpawner } from "../../../host/deno_spawner.ts";
import { findBubblewrap } from "../../sandbox/find_bwrap.ts";
import { sandboxLaunchArgs } from "./sandbox_launch.ts";
import { PY_SERVER } from "./_py_mcp_server_test.ts";

const spawner = createDenoSpawner();
const BWRAP = await findBubblewrap(spawner);

/** Reads newline-delimited JSON from a byte stream. */
async function* jsonLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== "") yield JSON.parse(line);
    }
  }
}

/** Writes one JSON-RPC 2.0 message as a line. */
function sendLine(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  msg: Record<string, unknown>,
): Promise<void> {
  const line = `${JSON.stringify({ jsonrpc: "2.0", ...msg })}\n`;
  return writer.write(new TextEncoder().encode(line));
}

Deno.test({
  name:
    "`sandboxLaunchArgs()` runs a Python MCP server under bwrap and the stdio JSON-RPC protocol survives",
  ignore: BWRAP === null,
  permissions: { read: true, write: true, run: true },
  async fn() {
    const root = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "sbx_mcp_" }),
    );
    try {
      const capsuleDir = `${root}/capsule`;
      const writableDir = `${root}/scratch`;
      await Deno.mkdir(capsuleDir);
      await Deno.mkdir(writableDir);
      await Deno.mkdir(`${root}/ws`);
      await Deno.writeTextFile(`${capsuleDir}/server.py`, PY_SERVER);
      const launch = sandboxLaunchArgs(
        { command: "python3", args: ["./server.py"] },
        { fs_read: [], fs_write: [], net: [], env: [] },
        { bwrapPath: BWRAP, capsuleDir, workspace: `${root}/ws`, writableDir },
      );
      assert.equal(launch.kind, "bwrap");
      const child = spawner.spawn(launch.command, {
        args: launch.args,
        env: launch.env,
        cwd: launch.cwd,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      });
      const stderr = new Response(child.stderr!).text();
      const writer = child.stdin!.getWriter();
      const replies = jsonLines(child.stdout!);
      const send = (msg: Record<string, unknown>) => sendLine(writer, msg);
      const call = async (id: number, method: string, params: unknown) => {
        await send({ id, method, params });
        const { value, done } = await replies.next();
        if (done) assert.fail(`server closed stdout: ${await stderr}`);
        assert.equal(value.id, id);
        return value;
      };
      const init = await call(1, "initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "astrid-test", version: "0" },
      });
      assert.equal(
        (init.result as { protocolVersion: string }).protocolVersion,
        "2025-11-25",
      );
      await send({ method: "notifications/initialized" });
      const list = await call(2, "tools/list", {});
      assert.deepEqual(
        (list.result as { tools: { name: string }[] }).tools.map((t) => t.name),
        ["echo"],
      );
      const res = await call(3, "tools/call", {
        name: "echo",
        arguments: { text: "héllo ✓" },
      });
      const result = res.result as {
        content: { text: string }[];
        structuredContent: { pid: number; cwd: string };
      };
      assert.equal(result.content[0]?.text, "héllo ✓");
      assert.equal(result.structuredContent.cwd, capsuleDir);
      assert.ok(
        result.structuredContent.pid <= 3,
        "runs in its own pid namespace",
      );
      const unknown = await call(4, "nope", {});
      assert.equal((unknown.error as { code: number }).code, -32601);
      await writer.close();
      const status = await child.status;
      assert.ok(status.success, await stderr);
      assert.equal((await replies.next()).done, true);
      assert.equal(
        await Deno.readTextFile(`${writableDir}/calls.log`),
        "héllo ✓\n",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`findBubblewrap()` returns the first candidate that really confines a command",
  ignore: BWRAP === null,
  permissions: { read: true, run: true },
  async fn() {
    const found = await findBubblewrap(spawner, [
      "/nonexistent/bwrap",
      "/bin/false",
      BWRAP!,
    ]);
    assert.equal(found, BWRAP);
  },
});

Deno.test({
  name: "`findBubblewrap()` returns null when no candidate exists or works",
  permissions: { read: true, run: true },
  async fn() {
    assert.equal(
      await findBubblewrap(spawner, ["/nonexistent/bwrap", "/bin/false"]),
      null,
    );
    assert.equal(await findBubblewrap(spawner, []), null);
  },
});

Deno.test({
  name: "`findBubblewrap()` throws ABORTED when the signal has fired",
  permissions: { read: true, run: true },
  async fn() {
    await assert.rejects(
      findBubblewrap(spawner, ["/bin/true"], { signal: AbortSignal.abort() }),
      (e: unknown) => e instanceof KernelError && e.code === "ABORTED",
    );
  },
});
