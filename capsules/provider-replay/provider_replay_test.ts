/**
 * The replay provider through the real kernel: the stream it publishes, the
 * response it answers, its position per session (across a restart), the
 * transcript from a file, and the end of the transcript.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  type AgentFixture,
  agentTest,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";
import type { LlmRequest, LlmResponse, LlmStreamMessage } from "@astrid/sdk";
import { createDenoFs, MemoryEnv, replayConfigFromEnv } from "../../mod.ts";

const TRANSCRIPT = {
  turns: [
    {
      text: "I will read two files for you now.",
      tool_calls: [
        { name: "read_file", arguments: { path: "a.txt" } },
        { name: "read_file", arguments: { path: "b.txt" } },
      ],
    },
    { text: "Done." },
  ],
};

function generate(
  fx: AgentFixture,
  sessionId: string,
  requestId: string,
): Promise<LlmResponse> {
  return fx.request<LlmResponse>(
    "llm.v1.request.generate.replay",
    {
      request_id: requestId,
      session_id: sessionId,
      model: "",
      system: "sys",
      messages: [{ role: "user", content: [{ type: "text", text: "go" }] }],
      tools: [],
    } satisfies LlmRequest,
  );
}

function inline(
  prefix: string,
  extra: { fileStore?: boolean } = {},
): Promise<AgentFixture> {
  return startAgentFixture({
    prefix,
    capsules: ["provider-replay"],
    ...extra,
    runtime: {
      capsuleConfig: {
        "provider-replay": { replay_transcript: JSON.stringify(TRANSCRIPT) },
      },
    },
  });
}

agentTest(
  "provider-replay: streams text deltas, tool calls, usage, done — and answers the assembled response",
  async () => {
    await using fx = await inline("astrid-replay-stream-");
    const seen = fx.watch("llm.v1.stream.replay");
    const first = await generate(fx, "s1", "r1");
    assert.equal(first.request_id, "r1");
    assert.equal(first.model, "replay");
    assert.equal(first.stop_reason, "tool_use");
    assert.deepEqual(first.content, [
      { type: "text", text: "I will read two files for you now." },
      {
        type: "tool_use",
        id: "call_1",
        name: "read_file",
        input: { path: "a.txt" },
      },
      {
        type: "tool_use",
        id: "call_2",
        name: "read_file",
        input: { path: "b.txt" },
      },
    ]);
    const stream = seen.map((e) => e.payload as unknown as LlmStreamMessage);
    assert.ok(
      stream.every((m) => m.request_id === "r1" && m.session_id === "s1"),
    );
    const deltas = stream.flatMap((m) =>
      m.event.type === "text_delta" ? [m.event.text] : []
    );
    assert.ok(deltas.length > 1, "the text arrives in several chunks");
    assert.equal(deltas.join(""), "I will read two files for you now.");
    const calls = stream.filter((m) => m.event.type.startsWith("tool_call"));
    assert.deepEqual(
      calls.map((m) => m.event.type).filter((t, i, a) => t !== a[i - 1]),
      [
        "tool_call_start",
        "tool_call_delta",
        "tool_call_end",
        "tool_call_start",
        "tool_call_delta",
        "tool_call_end",
      ],
    );
    // The events arrive in the order they were published, unbroken.
    const kinds = stream.map((m) => m.event.type);
    assert.deepEqual(kinds, [
      ...deltas.map(() => "text_delta"),
      ...["call_1", "call_2"].flatMap((id) => [
        "tool_call_start",
        ...calls.filter((m) =>
          m.event.type === "tool_call_delta" && m.event.id === id
        ).map(() => "tool_call_delta"),
        "tool_call_end",
      ]),
      "usage",
      "done",
    ]);
    for (const [id, path] of [["call_1", "a.txt"], ["call_2", "b.txt"]]) {
      const args = calls.flatMap((m) =>
        m.event.type === "tool_call_delta" && m.event.id === id
          ? [m.event.args_delta]
          : []
      );
      assert.equal(args.join(""), JSON.stringify({ path }));
    }
    assert.deepEqual(stream.at(-2)?.event, {
      type: "usage",
      usage: first.usage,
    });
    assert.deepEqual(stream.at(-1)?.event, {
      type: "done",
      stop_reason: "tool_use",
    });

    const second = await generate(fx, "s1", "r2");
    assert.equal(second.stop_reason, "end_turn");
    assert.deepEqual(second.content, [{ type: "text", text: "Done." }]);
    // Another session starts at the first turn.
    assert.equal((await generate(fx, "s2", "r3")).stop_reason, "tool_use");
    // The end of the transcript: a final text saying so.
    const over = await generate(fx, "s1", "r4");
    assert.equal(over.stop_reason, "end_turn");
    assert.match((over.content[0] as { text: string }).text, /no more turns/);
  },
);

agentTest(
  "provider-replay: the position of a session survives a kernel restart",
  async () => {
    const fx = await inline("astrid-replay-restart-", { fileStore: true });
    assert.equal((await generate(fx, "s", "r1")).stop_reason, "tool_use");
    await using again = await fx.restart();
    const next = await generate(again, "s", "r2");
    assert.deepEqual(next.content, [{ type: "text", text: "Done." }]);
  },
);

agentTest(
  "provider-replay: reads replay_file inside its grant, and no file outside it",
  async () => {
    const files = {
      ".astrid/replay/t.json": JSON.stringify(TRANSCRIPT),
      "elsewhere.json": JSON.stringify(TRANSCRIPT),
    };
    {
      await using fx = await startAgentFixture({
        prefix: "astrid-replay-file-",
        capsules: ["provider-replay"],
        files,
        runtime: {
          capsuleConfig: {
            "provider-replay": { replay_file: ".astrid/replay/t.json" },
          },
        },
      });
      assert.equal((await generate(fx, "s", "r1")).content.length, 3);
    }
    {
      await using fx = await startAgentFixture({
        prefix: "astrid-replay-outside-",
        capsules: ["provider-replay"],
        files,
        runtime: {
          capsuleConfig: {
            "provider-replay": { replay_file: "elsewhere.json" },
          },
        },
      });
      await assert.rejects(
        generate(fx, "s", "r1"),
        (err: Error) => /not granted by the manifest/.test(String(err.cause)),
      );
    }
    {
      await using fx = await startAgentFixture({
        prefix: "astrid-replay-home-",
        capsules: ["provider-replay"],
        runtime: {
          capsuleConfig: {
            "provider-replay": { replay_file: "home://replay/t.json" },
          },
        },
      });
      const dir = path.join(
        fx.tk.kernel.home.home(fx.tk.kernel.principal).root,
        "replay",
      );
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(
        path.join(dir, "t.json"),
        JSON.stringify(TRANSCRIPT),
      );
      assert.equal((await generate(fx, "s", "r1")).stop_reason, "tool_use");
    }
  },
);

agentTest(
  "provider-replay: ASTRID_REPLAY_FILE anywhere on the host reaches the capsule as its transcript",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "astrid-replay-env-" });
    try {
      const file = path.join(dir, "demo.json");
      await Deno.writeTextFile(file, JSON.stringify(TRANSCRIPT));
      const capsuleConfig = await replayConfigFromEnv(
        new MemoryEnv({ ASTRID_REPLAY_FILE: "demo.json" }),
        createDenoFs(),
        dir,
      );
      await using fx = await startAgentFixture({
        prefix: "astrid-replay-envfx-",
        capsules: ["provider-replay"],
        runtime: { capsuleConfig },
      });
      assert.equal((await generate(fx, "s", "r1")).content.length, 3);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
