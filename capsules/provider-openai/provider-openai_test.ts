/**
 * provider-openai through the real kernel: a loopback server speaks the
 * chat completions SSE wire format; the capsule is reached only over the bus.
 */
import assert from "node:assert/strict";
import type { LlmResponse } from "@astrid/sdk";
import {
  eventsOf,
  llmRequest,
  PROVIDER_PERMS,
  scriptedServer,
  startProviderFixture,
  until,
} from "../../tests/provider_fixture_test.ts";

const TOPIC = "llm.v1.request.generate.openai";
const ORIGIN = "https://api.openai.com";
const KEY = "sk-test-openai-91c2";
const SSE_HEADERS = { "content-type": "text/event-stream" };

function data(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

function chunk(
  delta: Record<string, unknown>,
  finish: string | null = null,
): string {
  return data({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-test-1",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
}

function toolDelta(
  index: number,
  fn: Record<string, string>,
  id?: string,
): string {
  return chunk({
    tool_calls: [{
      index,
      ...(id ? { id, type: "function" } : {}),
      function: fn,
    }],
  });
}

const USAGE = data({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-test-1",
  choices: [],
  usage: { prompt_tokens: 21, completion_tokens: 7, total_tokens: 28 },
});
const DONE = "data: [DONE]\n\n";

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof Error, "the request must fail");
  return err;
}

Deno.test({
  name:
    "provider-openai streams text and two interleaved tool calls by index: events reach the bus before the API finishes, the response is assembled, the kernel substitutes the key",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer({
      headers: SSE_HEADERS,
      pieces: [
        chunk({ role: "assistant", content: "" }),
        chunk({ content: "Checking " }),
        until(() => seen.length > 0, "the first text_delta on the bus"),
        chunk({ content: "both." }),
        toolDelta(0, { name: "read_file", arguments: "" }, "call_a"),
        toolDelta(1, { name: "list_directory", arguments: "" }, "call_b"),
        // One data line cut across two network chunks.
        ...[toolDelta(0, { arguments: '{"path":' })].flatMap((
          e,
        ) => [e.slice(0, 9), e.slice(9)]),
        toolDelta(1, { arguments: '{"path":"."}' }),
        toolDelta(0, { arguments: '"a.txt"}' }),
        chunk({}, "tool_calls"),
        USAGE,
        DONE,
      ],
    });
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res, {
      request_id: "req-1",
      model: "gpt-test-1",
      content: [
        { type: "text", text: "Checking both." },
        {
          type: "tool_use",
          id: "call_a",
          name: "read_file",
          input: { path: "a.txt" },
        },
        {
          type: "tool_use",
          id: "call_b",
          name: "list_directory",
          input: { path: "." },
        },
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 21, output_tokens: 7 },
    });
    assert.deepEqual(eventsOf(seen), [
      { type: "text_delta", text: "Checking " },
      { type: "text_delta", text: "both." },
      { type: "tool_call_start", id: "call_a", name: "read_file" },
      { type: "tool_call_start", id: "call_b", name: "list_directory" },
      { type: "tool_call_delta", id: "call_a", args_delta: '{"path":' },
      { type: "tool_call_delta", id: "call_b", args_delta: '{"path":"."}' },
      { type: "tool_call_delta", id: "call_a", args_delta: '"a.txt"}' },
      { type: "tool_call_end", id: "call_a" },
      { type: "tool_call_end", id: "call_b" },
      { type: "usage", usage: { input_tokens: 21, output_tokens: 7 } },
      { type: "done", stop_reason: "tool_use" },
    ]);
    const [req] = server.seen;
    assert.equal(req?.path, "/v1/chat/completions");
    assert.equal(req?.headers["authorization"], `Bearer ${KEY}`);
    assert.deepEqual(req?.body, {
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
    });
    for (const text of [JSON.stringify(seen), JSON.stringify(res)]) {
      assert.ok(!text.includes(KEY), "the capsule never had the key");
    }
    const audit = await fx.tk.kernel.security.audit.query({
      principal: fx.tk.kernel.principal,
    });
    assert.ok(!JSON.stringify(audit).includes(KEY));
    assert.deepEqual(
      audit.filter((e) => (e.action as { type?: string }).type === "secret_use")
        .map((e) => e.decision),
      ["allowed"],
    );
  },
});

Deno.test({
  name:
    "provider-openai sends a tool round trip as assistant tool_calls and tool messages, and tools as functions",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
    });
    server.answer({
      headers: SSE_HEADERS,
      pieces: [chunk({ content: "It says hi." }, "stop"), USAGE, DONE],
    });
    const res = await fx.request<LlmResponse>(
      TOPIC,
      llmRequest({
        model: "gpt-x",
        max_tokens: 50,
        messages: [
          { role: "user", content: [{ type: "text", text: "Read a.txt" }] },
          {
            role: "assistant",
            content: [{
              type: "tool_use",
              id: "call_a",
              name: "read_file",
              input: { path: "a.txt" },
            }],
          },
          {
            role: "user",
            content: [{
              type: "tool_result",
              tool_use_id: "call_a",
              content: "hi",
              is_error: false,
            }],
          },
        ],
        tools: [{
          name: "read_file",
          description: "Reads a file",
          input_schema: { type: "object" },
        }],
      }),
    );
    assert.equal(res.stop_reason, "end_turn");
    assert.deepEqual(server.seen[0]?.body, {
      model: "gpt-x",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Read a.txt" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "call_a",
            type: "function",
            function: { name: "read_file", arguments: '{"path":"a.txt"}' },
          }],
        },
        { role: "tool", tool_call_id: "call_a", content: "hi" },
      ],
      tools: [{
        type: "function",
        function: {
          name: "read_file",
          description: "Reads a file",
          parameters: { type: "object" },
        },
      }],
    });
  },
});

Deno.test({
  name:
    "provider-openai gives a tool call with malformed arguments input {} and tells the model in a text block",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
    });
    server.answer({
      headers: SSE_HEADERS,
      pieces: [
        toolDelta(0, { name: "grep", arguments: "{'pattern': x" }, "call_m"),
        chunk({}, "tool_calls"),
        USAGE,
        DONE,
      ],
    });
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [
      { type: "tool_use", id: "call_m", name: "grep", input: {} },
      {
        type: "text",
        text:
          `[The arguments of tool call call_m (grep) were not valid JSON, so the call was made with {}. They began: "{'pattern': x"]`,
      },
    ]);
  },
});

Deno.test({
  name:
    "provider-openai retries a 429 after its retry-after and a 502, then answers",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
    });
    server.answer(
      {
        status: 429,
        headers: { "retry-after": "0", "content-type": "application/json" },
        pieces: [
          '{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}',
        ],
      },
      { status: 502, pieces: ["<html>Bad gateway</html>"] },
      {
        headers: SSE_HEADERS,
        pieces: [chunk({ content: "ok" }, "stop"), USAGE, DONE],
      },
    );
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [{ type: "text", text: "ok" }]);
    assert.equal(server.seen.length, 3);
  },
});

Deno.test({
  name:
    "provider-openai surfaces an API error body's message as PROVIDER_FAILED with an error event, and gives up on 5xx after bounded attempts",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer({
      status: 401,
      headers: { "content-type": "application/json" },
      pieces: [
        '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}',
      ],
    });
    const err = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err.message,
      /PROVIDER_FAILED: openai API returned 401: invalid_request_error: Incorrect API key provided/,
    );
    assert.equal(server.seen.length, 1);
    assert.deepEqual(eventsOf(seen).map((e) => e.type), ["error"]);
    server.seen.length = 0;
    server.answer({ status: 500, pieces: ['{"error":{"message":"boom"}}'] });
    const err5 = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err5.message,
      /openai API returned 500 after 3 attempts: boom/,
    );
    assert.equal(server.seen.length, 3);
  },
});

Deno.test({
  name:
    "provider-openai fails with PROVIDER_FAILED and an error event when the stream is cut before finish_reason, or sends an error chunk",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer(
      { headers: SSE_HEADERS, pieces: [chunk({ content: "Hal" })] },
      {
        headers: SSE_HEADERS,
        pieces: [
          chunk({ content: "Hal" }),
          data({ error: { message: "The server had an error" } }),
        ],
      },
    );
    const cut = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      cut.message,
      /PROVIDER_FAILED: openai: the stream ended before finish_reason/,
    );
    assert.deepEqual(eventsOf(seen).map((e) => e.type), [
      "text_delta",
      "error",
    ]);
    const bad = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      bad.message,
      /PROVIDER_FAILED: openai stream error: The server had an error/,
    );
  },
});

Deno.test({
  name: "provider-openai retries a refused connection (HOST_IO), then answers",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-openai", server, {
      apiOrigin: ORIGIN,
      secrets: { OPENAI_API_KEY: KEY },
      connectFailures: 1,
    });
    server.answer({
      headers: SSE_HEADERS,
      pieces: [chunk({ content: "ok" }, "stop"), USAGE, DONE],
    });
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [{ type: "text", text: "ok" }]);
    assert.equal(server.seen.length, 1);
  },
});
