/**
 * The router through the real kernel, with two test tool capsules: the
 * collected tool list, dispatch, and the names it refuses.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  type AgentFixture,
  agentTest,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";
import type {
  ToolDescribeResult,
  ToolExecuteRequest,
  ToolExecuteResult,
} from "@astrid/sdk";

const FIXTURES = path.resolve(
  import.meta.dirname ?? ".",
  "../../tests/fixtures/capsules",
);

function tools(prefix: string): Promise<AgentFixture> {
  return startAgentFixture({
    prefix,
    capsules: [
      "router",
      path.join(FIXTURES, "agent-tools"),
      path.join(FIXTURES, "agent-tools-2"),
    ],
  });
}

function execute(
  fx: AgentFixture,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolExecuteResult> {
  return fx.request<ToolExecuteResult>(
    "tool.v1.request.execute",
    {
      call_id: "c1",
      name,
      arguments: args,
      session_id: "s",
    } satisfies ToolExecuteRequest,
  );
}

agentTest(
  "router: describe answers every tool capsule's tools, deduplicated (first wins)",
  async () => {
    await using fx = await tools("astrid-router-describe-");
    const { tools: list } = await fx.request<ToolDescribeResult>(
      "tool.v1.request.describe",
      { tools: [] },
    );
    assert.deepEqual(list.map((t) => t.name), [
      "read_file",
      "echo",
      "fail",
      "shout",
    ]);
    assert.equal(
      list.find((t) => t.name === "echo")?.description,
      "Answers its text",
    );
    assert.deepEqual(list.find((t) => t.name === "shout")?.input_schema, {
      type: "object",
      properties: { text: { type: "string" } },
    });
  },
);

agentTest("router: execute dispatches to tool.v1.execute.<name>", async () => {
  await using fx = await tools("astrid-router-execute-");
  assert.deepEqual(await execute(fx, "shout", { text: "hi" }), {
    call_id: "c1",
    content: "HI",
    is_error: false,
  });
  assert.deepEqual(await execute(fx, "echo", { text: "x" }), {
    call_id: "c1",
    content: "echo: x",
    is_error: false,
  });
  const failed = await execute(fx, "fail");
  assert.equal(failed.is_error, true);
  assert.match(failed.content, /the tool broke on purpose/);
});

agentTest(
  "router: unknown tools and names that would reach another topic are is_error results, not dispatched",
  async () => {
    await using fx = await tools("astrid-router-refuse-");
    const unknown = await execute(fx, "nope");
    assert.deepEqual(unknown, {
      call_id: "c1",
      content: "Unknown tool 'nope'",
      is_error: true,
    });
    const dispatched = fx.watch("tool.v1.execute.**");
    for (const name of ["shout.result", "*", "shout.*", "", "a b"]) {
      const r = await execute(fx, name, { text: "x" });
      assert.equal(r.is_error, true, name);
      assert.match(r.content, /Invalid tool name/, name);
    }
    assert.deepEqual(dispatched, []);
  },
);
