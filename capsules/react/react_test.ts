/**
 * The orchestrator through the real kernel: provider-replay, session,
 * identity, router and react installed, a test tool capsule
 * (`tests/fixtures/capsules/agent-tools`: read_file, echo, fail), a turn sent
 * on `user.v1.prompt` as the turn API does.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  type AgentFixture,
  agentTest,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";
import type {
  LlmStreamMessage,
  Message,
  SessionMessages,
  TurnEventMessage,
  TurnRequest,
  TurnResult,
} from "@astrid/sdk";

const TOOLS = path.resolve(
  import.meta.dirname ?? ".",
  "../../tests/fixtures/capsules/agent-tools",
);
const CAPSULES = [
  "provider-replay",
  "session",
  "identity",
  "router",
  "react",
  TOOLS,
];

interface Turn {
  text?: string;
  tool_calls?: { name: string; arguments: Record<string, unknown> }[];
}

function agent(
  prefix: string,
  turns: Turn[],
  files: Record<string, string> = {},
): Promise<AgentFixture> {
  return startAgentFixture({
    prefix,
    capsules: CAPSULES,
    files,
    runtime: {
      capsuleConfig: {
        "provider-replay": { replay_transcript: JSON.stringify({ turns }) },
      },
    },
  });
}

function prompt(
  fx: AgentFixture,
  text: string,
  extra: Partial<TurnRequest> = {},
): Promise<TurnResult> {
  return fx.request<TurnResult>(
    "user.v1.prompt",
    {
      turn_id: "t1",
      session_id: "s1",
      text,
      ...extra,
    } satisfies TurnRequest,
  );
}

async function history(fx: AgentFixture, sid = "s1"): Promise<Message[]> {
  const h = await fx.request<SessionMessages>(
    "session.v1.request.get_messages",
    { session_id: sid },
  );
  return [...h.messages];
}

function events(seen: { payload: unknown }[]): TurnEventMessage["event"][] {
  return seen.map((e) => (e.payload as TurnEventMessage).event);
}

/** Every message of an error and its causes. */
function messages(err: unknown): string {
  const out: string[] = [];
  for (let e = err as Error | undefined; e; e = e.cause as Error | undefined) {
    out.push(e.message);
  }
  return out.join(" <- ");
}

agentTest(
  "react: one tool call end to end — replay → tool_call → tool result → final text",
  async () => {
    await using fx = await agent("astrid-react-one-", [
      {
        text: "Let me read the file.",
        tool_calls: [{ name: "read_file", arguments: { path: "a.txt" } }],
      },
      { text: "The file says hello." },
    ], { "a.txt": "hello from a.txt" });
    const turnEvents = fx.watch("agent.v1.turn_event");
    const stream = fx.watch("llm.v1.stream.*");

    const result = await prompt(fx, "What does a.txt say?");

    assert.equal(result.text, "The file says hello.");
    assert.equal(result.iterations, 2);
    assert.ok(result.usage.input_tokens > 0 && result.usage.output_tokens > 0);
    assert.deepEqual(events(turnEvents), [
      {
        type: "tool_call",
        id: "call_1",
        name: "read_file",
        arguments: { path: "a.txt" },
      },
      {
        type: "tool_result",
        id: "call_1",
        is_error: false,
        content: "hello from a.txt",
      },
    ]);
    for (const e of turnEvents) {
      const m = e.payload as unknown as TurnEventMessage;
      assert.equal(m.session_id, "s1");
      assert.equal(m.turn_id, "t1");
    }
    const first = stream.map((e) => e.payload as unknown as LlmStreamMessage)
      .filter((m) => m.request_id === "t1-1");
    assert.deepEqual(
      first.map((m) => m.event.type).filter((t, i, a) => a[i - 1] !== t),
      [
        "text_delta",
        "tool_call_start",
        "tool_call_delta",
        "tool_call_end",
        "usage",
        "done",
      ],
    );
    assert.equal(
      first.flatMap((m) => m.event.type === "text_delta" ? [m.event.text] : [])
        .join(""),
      "Let me read the file.",
    );
    assert.equal(
      first.flatMap((m) =>
        m.event.type === "tool_call_delta" ? [m.event.args_delta] : []
      ).join(""),
      '{"path":"a.txt"}',
    );
    assert.deepEqual(first.at(-1)?.event, {
      type: "done",
      stop_reason: "tool_use",
    });

    assert.deepEqual(await history(fx), [
      {
        role: "user",
        content: [{ type: "text", text: "What does a.txt say?" }],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Let me read the file." },
          {
            type: "tool_use",
            id: "call_1",
            name: "read_file",
            input: { path: "a.txt" },
          },
        ],
      },
      {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: "call_1",
          content: "hello from a.txt",
          is_error: false,
        }],
      },
      {
        role: "assistant",
        content: [{ type: "text", text: "The file says hello." }],
      },
    ]);
  },
);

agentTest(
  "react: two tool calls in one model turn run and return in one user message",
  async () => {
    await using fx = await agent("astrid-react-two-", [
      {
        tool_calls: [
          { name: "echo", arguments: { text: "one" } },
          { name: "echo", arguments: { text: "two" } },
        ],
      },
      { text: "Both echoed." },
    ]);
    const turnEvents = fx.watch("agent.v1.turn_event");
    const result = await prompt(fx, "Echo twice");
    assert.equal(result.text, "Both echoed.");
    assert.equal(result.iterations, 2);
    const results = events(turnEvents).filter((e) => e.type === "tool_result");
    assert.deepEqual(
      results.map((e) => [e.id, e.content]).sort(),
      [["call_1", "echo: one"], ["call_2", "echo: two"]],
    );
    const h = await history(fx);
    assert.equal(h.length, 4);
    assert.deepEqual(h[2], {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "call_1",
          content: "echo: one",
          is_error: false,
        },
        {
          type: "tool_result",
          tool_use_id: "call_2",
          content: "echo: two",
          is_error: false,
        },
      ],
    });
  },
);

agentTest(
  "react: a tool error is fed back to the model and the turn goes on",
  async () => {
    await using fx = await agent("astrid-react-toolerr-", [
      { text: "Trying.", tool_calls: [{ name: "fail", arguments: {} }] },
      { text: "The tool failed, sorry." },
    ]);
    const turnEvents = fx.watch("agent.v1.turn_event");
    const result = await prompt(fx, "Do the failing thing");
    assert.equal(result.text, "The tool failed, sorry.");
    const r = events(turnEvents).find((e) => e.type === "tool_result");
    assert.equal(r?.type, "tool_result");
    assert.ok(r?.type === "tool_result" && r.is_error);
    assert.match(r.content, /the tool broke on purpose/);
    const h = await history(fx);
    const block = h[2]?.content[0];
    assert.ok(block?.type === "tool_result" && block.is_error);
  },
);

agentTest(
  "react: an unknown tool is an is_error result (unknown tool), not a failed turn",
  async () => {
    await using fx = await agent("astrid-react-unknown-", [
      { tool_calls: [{ name: "no_such_tool", arguments: {} }] },
      { text: "No such tool." },
    ]);
    const turnEvents = fx.watch("agent.v1.turn_event");
    const result = await prompt(fx, "Call a missing tool");
    assert.equal(result.text, "No such tool.");
    const r = events(turnEvents).find((e) => e.type === "tool_result");
    assert.ok(r?.type === "tool_result" && r.is_error);
    assert.match(r.content, /unknown tool 'no_such_tool'/i);
  },
);

agentTest(
  "react: a tool name with a dot is refused by the router without dispatch",
  async () => {
    await using fx = await agent("astrid-react-dot-", [
      {
        tool_calls: [{
          name: "read_file.result",
          arguments: { path: "a.txt" },
        }],
      },
      { text: "Refused." },
    ], { "a.txt": "secret" });
    const turnEvents = fx.watch("agent.v1.turn_event");
    const dispatched = fx.watch("tool.v1.execute.**");
    const result = await prompt(fx, "Call a dotted tool");
    assert.equal(result.text, "Refused.");
    const r = events(turnEvents).find((e) => e.type === "tool_result");
    assert.ok(r?.type === "tool_result" && r.is_error);
    assert.match(r.content, /Invalid tool name .*not dispatched/);
    assert.doesNotMatch(r.content, /secret/);
    assert.deepEqual(dispatched, []);
  },
);

agentTest(
  "react: max iterations ends the turn with TURN_MAX_ITERATIONS and a well-formed history",
  async () => {
    const loop = {
      tool_calls: [{ name: "echo", arguments: { text: "again" } }],
    };
    await using fx = await agent("astrid-react-max-", [loop, loop, loop, loop]);
    const err = await prompt(fx, "Loop forever", { max_iterations: 2 }).then(
      () => assert.fail("the turn should fail"),
      (e: unknown) => e,
    );
    assert.match(
      messages(err),
      /TURN_MAX_ITERATIONS: The turn made 2 model calls/,
    );
    // The guest's code travels as data (the turn API maps it to an error event).
    const engine = (err as Error).cause as { data?: Record<string, unknown> };
    assert.equal(engine.data?.guest_code, "TURN_MAX_ITERATIONS");
    const h = await history(fx);
    // user, (assistant tool_use, user tool_result) × 2: every call answered.
    assert.equal(h.length, 5);
    assert.equal(h.at(-1)?.content[0]?.type, "tool_result");
  },
);

agentTest(
  "react: a transcript that ran out answers with a final text saying so",
  async () => {
    await using fx = await agent("astrid-react-exhausted-", [{
      text: "Only turn.",
    }]);
    assert.equal((await prompt(fx, "First")).text, "Only turn.");
    const second = await prompt(fx, "Second", { turn_id: "t2" });
    assert.match(second.text, /no more turns/);
    assert.equal(second.iterations, 1);
  },
);

agentTest(
  "react: a provider nobody answers fails the turn with PROVIDER_FAILED",
  async () => {
    await using fx = await agent("astrid-react-noprovider-", [{ text: "x" }]);
    const err = await prompt(fx, "Hi", { provider: "nobody" }).then(
      () => assert.fail("the turn should fail"),
      (e: unknown) => e,
    );
    assert.match(
      messages(err),
      /PROVIDER_FAILED: Provider 'nobody' failed: NOT_FOUND/,
    );
    const engine = (err as Error).cause as { data?: Record<string, unknown> };
    assert.equal(engine.data?.guest_code, "PROVIDER_FAILED");
  },
);

agentTest(
  "react: a conversation goes on after a kernel restart — the model sees the earlier turn",
  async () => {
    const fx = await startAgentFixture({
      prefix: "astrid-react-restart-",
      capsules: CAPSULES,
      fileStore: true,
      runtime: {
        capsuleConfig: {
          "provider-replay": {
            replay_transcript: JSON.stringify({
              turns: [{ text: "First answer." }, { text: "Second answer." }],
            }),
          },
        },
      },
    });
    const first = await prompt(fx, "Question one");
    assert.equal(first.text, "First answer.");
    await using again = await fx.restart();
    const result = await prompt(again, "Question two", { turn_id: "t2" });
    assert.equal(result.text, "Second answer.");
    // The second model call got the first turn: its input grew.
    assert.ok(result.usage.input_tokens > first.usage.input_tokens);
    assert.deepEqual(
      (await history(again)).map((
        m,
      ) => [m.role, (m.content[0] as { text: string }).text]),
      [
        ["user", "Question one"],
        ["assistant", "First answer."],
        ["user", "Question two"],
        ["assistant", "Second answer."],
      ],
    );
  },
);

agentTest(
  "react: a long tool loop runs within the session's budget — the model gets the compacted history, pairs intact",
  async () => {
    const read = {
      tool_calls: [{ name: "read_file", arguments: { path: "big.txt" } }],
    };
    await using fx = await startAgentFixture({
      prefix: "astrid-react-compact-",
      capsules: CAPSULES,
      files: { "big.txt": "b".repeat(800) },
      runtime: {
        capsuleConfig: {
          "provider-replay": {
            replay_transcript: JSON.stringify({
              turns: [read, read, read, read, read, {
                text: "Read it five times.",
              }],
            }),
          },
          session: { max_context_tokens: "600" },
        },
      },
    });
    const stream = fx.watch("llm.v1.stream.*");
    const result = await prompt(fx, "Read big.txt five times");
    assert.equal(result.text, "Read it five times.");
    assert.equal(result.iterations, 6);
    const h = await history(fx);
    assert.match(JSON.stringify(h[0]), /earlier messages were removed/);
    assert.equal(
      (h[0]?.content[0] as { text: string }).text,
      "Read big.txt five times",
    );
    h.forEach((m, i) => {
      for (const b of m.content) {
        if (b.type !== "tool_result") continue;
        assert.ok(
          h[i - 1]?.content.some((u) =>
            u.type === "tool_use" && u.id === b.tool_use_id
          ),
          `tool_result ${b.tool_use_id} follows its tool_use`,
        );
      }
    });
    // The model calls' input stops growing at the budget (600 tokens of
    // messages plus the system prompt); uncompacted it would reach ~1400.
    const inputs = stream.map((e) => e.payload as unknown as LlmStreamMessage)
      .flatMap((m) =>
        m.event.type === "usage" ? [m.event.usage.input_tokens] : []
      );
    assert.equal(inputs.length, 6);
    assert.ok(inputs.at(-1)! < inputs[0]! + 600, JSON.stringify(inputs));
  },
);

agentTest(
  "react: across turns the model gets exactly the stored history — the held copy is used only while the session still has that version (a clear in between is seen)",
  async () => {
    await using fx = await agent("astrid-react-held-", [
      { text: "one" },
      { text: "two" },
      { text: "three" },
    ]);
    const stream = fx.watch("llm.v1.stream.*");
    const inputs = () =>
      stream.map((e) => e.payload as unknown as LlmStreamMessage)
        .flatMap((m) =>
          m.event.type === "usage" ? [m.event.usage.input_tokens] : []
        );
    assert.equal((await prompt(fx, "q-1")).text, "one");
    assert.equal((await prompt(fx, "q-2")).text, "two");
    const stored = await history(fx);
    assert.deepEqual(stored.map((m) => m.role), [
      "user",
      "assistant",
      "user",
      "assistant",
    ]);
    await fx.request("session.v1.request.clear", { session_id: "s1" });
    assert.equal((await prompt(fx, "q-3")).text, "three");
    // Turn 2 saw turn 1 (more input); turn 3 saw only its own prompt, as
    // turn 1 did (same length), not the cleared history.
    const [first, second, third] = inputs();
    assert.ok(second! > first!, JSON.stringify(inputs()));
    assert.equal(third, first, JSON.stringify(inputs()));
    assert.deepEqual(await history(fx), [
      { role: "user", content: [{ type: "text", text: "q-3" }] },
      { role: "assistant", content: [{ type: "text", text: "three" }] },
    ]);
  },
);
