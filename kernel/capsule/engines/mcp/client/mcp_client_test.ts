import assert from "node:assert/strict";
import { KernelError } from "../../../../core/errors.ts";
import { firstCall, startEverything } from "./_mcp_test_server_test.ts";
import type {
  JsonValue,
  McpLogEntry,
  McpProgress,
  McpSamplingRequest,
  McpToolResult,
} from "./mcp_types.ts";

// Tests against the real reference server, launched confined (flags mode).
const PERMS = { read: true, write: true, env: true, run: true } as const;

function text(result: McpToolResult): string {
  return result.content
    .map((c) =>
      typeof c === "object" && c !== null && "text" in c ? String(c.text) : ""
    )
    .join("\n");
}

/** Fails (instead of hanging) when an awaited server event never comes. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No ${what} within 4 s`)), 4_000);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name:
    "`connectMcpClient()` initialises server-everything: server info, protocol 2025-11-25, capabilities, instructions",
  permissions: PERMS,
  async fn() {
    const s = await startEverything({}, { readOwnPackage: true });
    try {
      const { session } = s;
      assert.deepEqual(session.server, {
        name: "mcp-servers/everything",
        version: "2.0.0",
        title: "Everything Reference Server",
      });
      assert.equal(session.protocolVersion, "2025-11-25");
      assert.deepEqual(session.capabilities, {
        tools: true,
        resources: true,
        prompts: true,
        logging: true,
      });
      assert.match(session.instructions ?? "", /Everything Server/);
      await session.ping();
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.listTools()` lists echo and get-sum with their schemas; conditional tools only with handlers",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      const tools = await s.session.listTools();
      const names = tools.map((t) => t.name);
      for (const n of ["echo", "get-sum", "trigger-long-running-operation"]) {
        assert.ok(names.includes(n), n);
      }
      // No roots/elicitation/sampling handler: none of those capabilities.
      for (const n of ["get-roots-list", "trigger-sampling-request"]) {
        assert.ok(!names.includes(n), n);
      }
      const echo = tools.find((t) => t.name === "echo");
      assert.equal(echo?.title, "Echo Tool");
      assert.equal(echo?.description, "Echoes back the input string");
      const schema = echo?.inputSchema as {
        properties?: { message?: unknown };
      };
      assert.deepEqual(schema.properties?.message, {
        type: "string",
        description: "Message to echo",
      });
      assert.deepEqual(echo?.annotations, {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` returns echo and get-sum results; an unknown tool is an isError result, not an exception",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      const { session } = s;
      assert.deepEqual(await session.callTool("echo", { message: "hi ✓" }), {
        content: [{ type: "text", text: "Echo: hi ✓" }],
        isError: false,
      });
      assert.deepEqual(await session.callTool("get-sum", { a: 2, b: 3.5 }), {
        content: [{ type: "text", text: "The sum of 2 and 3.5 is 5.5." }],
        isError: false,
      });
      const missing = await session.callTool("no-such-tool", {});
      assert.equal(missing.isError, true);
      assert.match(text(missing), /Tool no-such-tool not found/);
      const invalid = await session.callTool("echo", { message: 7 });
      assert.equal(invalid.isError, true);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` delivers progress notifications of a long-running operation",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      const progress: McpProgress[] = [];
      const result = await s.session.callTool(
        "trigger-long-running-operation",
        { duration: 0.15, steps: 3 },
        { onProgress: (p) => progress.push(p) },
      );
      assert.deepEqual(progress, [
        { progress: 1, total: 3 },
        { progress: 2, total: 3 },
        { progress: 3, total: 3 },
      ]);
      assert.match(text(result), /Long running operation completed/);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` rejects with ABORTED when cancelled mid-call, and the session keeps working",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      const ctl = new AbortController();
      const call = s.session.callTool(
        "trigger-long-running-operation",
        { duration: 20, steps: 400 },
        { signal: ctl.signal, onProgress: () => ctl.abort() },
      );
      await assert.rejects(call, (e) => KernelError.is(e, "ABORTED"));
      assert.deepEqual(await s.session.callTool("echo", { message: "still" }), {
        content: [{ type: "text", text: "Echo: still" }],
        isError: false,
      });
      const pre = AbortSignal.abort();
      await assert.rejects(
        s.session.callTool("echo", { message: "x" }, { signal: pre }),
        (e) => KernelError.is(e, "ABORTED"),
      );
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.callTool()` rejects with CAPSULE_TIMEOUT when no answer or progress comes in time",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      const started = performance.now();
      await assert.rejects(
        s.session.callTool(
          "trigger-long-running-operation",
          { duration: 3, steps: 1 },
          { timeoutMs: 150, onProgress: () => {} },
        ),
        (e) =>
          KernelError.is(e, "CAPSULE_TIMEOUT") &&
          e.message ===
            "MCP tools/call 'trigger-long-running-operation' timed out after 150 ms",
      );
      assert.ok(performance.now() - started < 2_500);
      await s.session.ping();
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.setLogLevel()` + toggle-simulated-logging: server log entries reach handlers.log",
  permissions: PERMS,
  async fn() {
    const first = firstCall<McpLogEntry>();
    const s = await startEverything({
      handlers: {
        log: (e) => {
          if (e.logger !== "mcp-client") first.callback(e);
        },
      },
    });
    try {
      await s.session.setLogLevel("debug");
      await s.session.callTool("toggle-simulated-logging", {});
      const entry = await within(first.promise, "log entry");
      assert.match(
        entry.level,
        /^(debug|info|notice|warning|error|critical|alert|emergency)$/,
      );
      assert.match(String(entry.data), /message/);
      await assert.rejects(s.session.setLogLevel("loud"), RangeError);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` roots handler answers roots/list; `notifyRootsChanged()` makes the server ask again",
  permissions: PERMS,
  async fn() {
    let roots = [{ uri: "file:///ws/one", name: "one" }];
    const updates: string[] = [];
    let onUpdate = (): void => {};
    const s = await startEverything({
      handlers: {
        roots: () => Promise.resolve(roots),
        log: (e) => {
          if (String(e.data).startsWith("Roots updated")) {
            updates.push(String(e.data));
            onUpdate();
          }
        },
      },
    });
    try {
      const listed = await s.session.callTool("get-roots-list", {});
      assert.match(text(listed), /1\. one\n {3}URI: file:\/\/\/ws\/one/);
      roots = [...roots, { uri: "file:///ws/two", name: "two" }];
      const second = new Promise<void>((resolve) => {
        onUpdate = () => updates.some((u) => u.includes("2 root")) && resolve();
        onUpdate();
      });
      await s.session.notifyRootsChanged();
      await within(second, "second roots sync");
      const again = await s.session.callTool("get-roots-list", {});
      assert.match(text(again), /Current MCP Roots \(2 total\)/);
      assert.match(text(again), /URI: file:\/\/\/ws\/two/);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` elicit handler: form request accepted with content, then declined",
  permissions: PERMS,
  async fn() {
    const asked: JsonValue[] = [];
    let answer: "accept" | "decline" = "accept";
    const s = await startEverything({
      handlers: {
        elicit(req) {
          asked.push(req as unknown as JsonValue);
          return Promise.resolve(
            answer === "accept"
              ? { action: "accept", content: { name: "Ada", check: true } }
              : { action: "decline" },
          );
        },
      },
    });
    try {
      const accepted = await s.session.callTool(
        "trigger-elicitation-request",
        {},
      );
      assert.match(text(accepted), /User provided the requested information/);
      assert.match(text(accepted), /- Name: Ada\n- Agreed to terms: true/);
      const req = asked[0] as {
        mode: string;
        message: string;
        requestedSchema: { required: string[] };
      };
      assert.equal(req.mode, "form");
      assert.equal(
        req.message,
        "Please provide inputs for the following fields:",
      );
      assert.deepEqual(req.requestedSchema.required, ["name"]);
      answer = "decline";
      const declined = await s.session.callTool(
        "trigger-elicitation-request",
        {},
      );
      assert.match(text(declined), /User declined to provide/);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` elicit handler receives URL-mode elicitation with the url and id",
  permissions: PERMS,
  async fn() {
    const asked: unknown[] = [];
    const s = await startEverything({
      handlers: {
        elicit(req) {
          asked.push(req);
          return Promise.resolve({ action: "accept" });
        },
      },
    });
    try {
      const r = await s.session.callTool("trigger-url-elicitation", {
        url: "https://example.com/authorize",
        elicitationId: "el-1",
      });
      assert.deepEqual(asked, [{
        mode: "url",
        message: "Please open the link to complete this action.",
        url: "https://example.com/authorize",
        elicitationId: "el-1",
      }]);
      assert.match(text(r), /User completed the URL elicitation flow/);
      // The error path (-32042) is a failed call, not a result.
      await assert.rejects(
        s.session.callTool("trigger-url-elicitation", {
          url: "https://example.com/other",
          errorPath: true,
        }),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") && e.data?.mcpCode === -32042,
      );
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` sample handler answers sampling/createMessage and the answer reaches the tool result",
  permissions: PERMS,
  async fn() {
    const asked: McpSamplingRequest[] = [];
    const s = await startEverything({
      handlers: {
        sample(req) {
          asked.push(req);
          return Promise.resolve({
            role: "assistant",
            content: { type: "text", text: "sampled answer" },
            model: "test-model",
            stopReason: "endTurn",
          });
        },
      },
    });
    try {
      const r = await s.session.callTool("trigger-sampling-request", {
        prompt: "hello",
        maxTokens: 42,
      });
      assert.deepEqual(asked, [{
        messages: [{
          role: "user",
          content: {
            type: "text",
            text: "Resource trigger-sampling-request context: hello",
          },
        }],
        maxTokens: 42,
        systemPrompt: "You are a helpful test server.",
        temperature: 0.7,
      }]);
      assert.match(text(r), /sampled answer/);
      assert.match(text(r), /"model": "test-model"/);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` a failing sample handler tells the server only its error code, not its message",
  permissions: PERMS,
  async fn() {
    const s = await startEverything({
      handlers: {
        sample: () =>
          Promise.reject(
            new KernelError("APPROVAL_DENIED", "Denied by /home/alice/.astrid"),
          ),
      },
    });
    try {
      const r = await s.session.callTool("trigger-sampling-request", {
        prompt: "x",
      });
      assert.equal(r.isError, true);
      assert.match(
        text(r),
        /-1.*could not answer sampling\/createMessage \(APPROVAL_DENIED\)/,
      );
      assert.doesNotMatch(text(r), /alice/);
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession` lists and reads resources, static and from a template",
  permissions: PERMS,
  async fn() {
    const s = await startEverything({}, { readOwnPackage: true });
    try {
      const { session } = s;
      const resources = await session.listResources();
      const doc = resources.find((r) => r.name === "instructions.md");
      assert.deepEqual(doc, {
        uri: "demo://resource/static/document/instructions.md",
        name: "instructions.md",
        description: "Static document file exposed from /docs: instructions.md",
        mimeType: "text/markdown",
      });
      const read = await session.readResource(doc.uri);
      const first = read.contents[0] as { uri: string; text: string };
      assert.equal(first.uri, doc.uri);
      assert.match(first.text, /Everything Server/);
      const templates = await session.listResourceTemplates();
      assert.ok(
        templates.some((t) =>
          t.uriTemplate === "demo://resource/dynamic/text/{resourceId}"
        ),
      );
      const dynamic = await session.readResource(
        "demo://resource/dynamic/text/7",
      );
      assert.match(
        (dynamic.contents[0] as { text: string }).text,
        /^Resource 7: This is a plaintext resource/,
      );
      await assert.rejects(
        session.readResource("demo://nope"),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") &&
          e.message.startsWith("MCP resources/read 'demo://nope' failed:"),
      );
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name: "`McpClientSession` lists prompts and gets simple-prompt",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      const prompts = await s.session.listPrompts();
      const simple = prompts.find((p) => p.name === "simple-prompt");
      assert.deepEqual(simple, {
        name: "simple-prompt",
        title: "Simple Prompt",
        description: "A prompt with no arguments",
      });
      assert.deepEqual(await s.session.getPrompt("simple-prompt", {}), {
        messages: [{
          role: "user",
          content: {
            type: "text",
            text: "This is a simple prompt without arguments.",
          },
        }],
      });
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`connectMcpClient()` listChanged handler hears the server's tools/list_changed",
  permissions: PERMS,
  async fn() {
    const changed = firstCall<string>();
    const s = await startEverything({
      handlers: {
        listChanged: changed.callback,
        roots: () => Promise.resolve([]),
      },
    });
    try {
      assert.equal(await within(changed.promise, "list_changed"), "tools");
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.closed` resolves when the server is killed; later calls fail with CAPSULE_FAILED",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      s.child.kill("SIGKILL");
      await s.session.closed;
      await assert.rejects(
        s.session.callTool("echo", { message: "x" }),
        (e) =>
          KernelError.is(e, "CAPSULE_FAILED") &&
          e.message ===
            "MCP tools/call 'echo' failed: the connection to the server is closed",
      );
    } finally {
      await s.dispose();
    }
  },
});

Deno.test({
  name:
    "`McpClientSession.close()` is idempotent and ends the server through stdin EOF",
  permissions: PERMS,
  async fn() {
    const s = await startEverything();
    try {
      await Promise.all([s.session.close(), s.session.close()]);
      await s.session.closed;
      const status = await within(s.child.status, "server exit on stdin EOF");
      assert.equal(status.signal, null);
    } finally {
      await s.dispose();
    }
  },
});
