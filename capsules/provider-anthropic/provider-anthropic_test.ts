/**
 * provider-anthropic through the real kernel: a loopback server speaks the
 * Messages API's SSE wire format; the capsule is reached only over the bus.
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

const TOPIC = "llm.v1.request.generate.anthropic";
const ORIGIN = "https://api.anthropic.com";
const KEY = "sk-ant-test-7f3a";

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const START = sse("message_start", {
  type: "message_start",
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-test-1",
    content: [],
    stop_reason: null,
    usage: { input_tokens: 12, output_tokens: 1 },
  },
});

function textBlock(index: number, ...parts: string[]): string[] {
  return [
    sse("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "" },
    }),
    ...parts.map((text) =>
      sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text },
      })
    ),
    sse("content_block_stop", { type: "content_block_stop", index }),
  ];
}

function toolBlock(
  index: number,
  id: string,
  name: string,
  ...json: string[]
): string[] {
  return [
    sse("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id, name, input: {} },
    }),
    ...json.map((partial_json) =>
      sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json },
      })
    ),
    sse("content_block_stop", { type: "content_block_stop", index }),
  ];
}

function end(stop: string, outputTokens: number): string[] {
  return [
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    }),
    sse("message_stop", { type: "message_stop" }),
  ];
}

const SSE_HEADERS = { "content-type": "text/event-stream" };

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof Error, "the request must fail");
  return err;
}

Deno.test({
  name:
    "provider-anthropic streams text and a tool call: events reach the bus before the API finishes, the final response is assembled, the kernel substitutes the key",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
      secrets: { ANTHROPIC_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer({
      headers: SSE_HEADERS,
      pieces: [
        START,
        sse("ping", { type: "ping" }),
        ...textBlock(0, "Let me ", "read it."),
        // Held open until the first delta is on the bus: it streamed.
        until(() => seen.length > 0, "the first text_delta on the bus"),
        // One SSE event cut across two network chunks.
        ...toolBlock(1, "toolu_1", "read_file", '{"path":', ' "a.txt"}')
          .flatMap((e) => [e.slice(0, 7), e.slice(7)]),
        ...end("tool_use", 9),
      ],
    });
    const res = await fx.request<LlmResponse>(
      TOPIC,
      llmRequest({
        tools: [{
          name: "read_file",
          description: "Reads a file",
          input_schema: { type: "object" },
        }],
      }),
    );
    assert.deepEqual(res, {
      request_id: "req-1",
      model: "claude-test-1",
      content: [
        { type: "text", text: "Let me read it." },
        {
          type: "tool_use",
          id: "toolu_1",
          name: "read_file",
          input: { path: "a.txt" },
        },
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 12, output_tokens: 9 },
    });
    assert.deepEqual(eventsOf(seen), [
      { type: "text_delta", text: "Let me " },
      { type: "text_delta", text: "read it." },
      { type: "tool_call_start", id: "toolu_1", name: "read_file" },
      { type: "tool_call_delta", id: "toolu_1", args_delta: '{"path":' },
      { type: "tool_call_delta", id: "toolu_1", args_delta: ' "a.txt"}' },
      { type: "tool_call_end", id: "toolu_1" },
      { type: "usage", usage: { input_tokens: 12, output_tokens: 9 } },
      { type: "done", stop_reason: "tool_use" },
    ]);
    assert.ok(seen.every((e) => e.topic === "llm.v1.stream.anthropic"));
    // The wire request: the real key (substituted by the kernel), the API
    // version, a streaming body built from the LlmRequest.
    const [req] = server.seen;
    assert.equal(req?.path, "/v1/messages");
    assert.equal(req?.headers["x-api-key"], KEY);
    assert.equal(req?.headers["anthropic-version"], "2023-06-01");
    assert.deepEqual(req?.body, {
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      stream: true,
      system: "Be brief.",
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      tools: [{
        name: "read_file",
        description: "Reads a file",
        input_schema: { type: "object" },
      }],
    });
    // The capsule never had the key: not in what it published or returned,
    // not in the audit chain (which records the secret_use decision).
    const audit = await fx.tk.kernel.security.audit.query({
      principal: fx.tk.kernel.principal,
    });
    const uses = audit.filter((e) =>
      (e.action as { type?: string }).type === "secret_use"
    );
    assert.deepEqual(uses.map((e) => e.decision), ["allowed"]);
    for (const text of [JSON.stringify(seen), JSON.stringify(res)]) {
      assert.ok(!text.includes(KEY));
    }
    assert.ok(!JSON.stringify(audit).includes(KEY));
  },
});

Deno.test({
  name:
    "provider-anthropic gives a tool call with malformed arguments input {} and tells the model in a text block",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
      secrets: { ANTHROPIC_API_KEY: KEY },
    });
    server.answer({
      headers: SSE_HEADERS,
      pieces: [
        START,
        ...toolBlock(0, "toolu_2", "write_file", '{"path": "a.txt", "con'),
        ...end("tool_use", 4),
      ],
    });
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [
      { type: "tool_use", id: "toolu_2", name: "write_file", input: {} },
      {
        type: "text",
        text:
          '[The arguments of tool call toolu_2 (write_file) were not valid JSON, so the call was made with {}. They began: "{\\"path\\": \\"a.txt\\", \\"con"]',
      },
    ]);
    assert.equal(res.stop_reason, "tool_use");
  },
});

Deno.test({
  name:
    "provider-anthropic retries a 429 after its retry-after and a 503, then answers",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
      secrets: { ANTHROPIC_API_KEY: KEY },
    });
    server.answer(
      {
        status: 429,
        headers: { "retry-after": "0", "content-type": "application/json" },
        pieces: [
          '{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
        ],
      },
      {
        status: 503,
        pieces: ['{"type":"error","error":{"type":"api_error","message":"x"}}'],
      },
      {
        headers: SSE_HEADERS,
        pieces: [START, ...textBlock(0, "ok"), ...end("end_turn", 2)],
      },
    );
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [{ type: "text", text: "ok" }]);
    assert.equal(server.seen.length, 3);
  },
});

Deno.test({
  name:
    "provider-anthropic surfaces an API error body's message as PROVIDER_FAILED with an error stream event, and gives up on 5xx after bounded attempts",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
      secrets: { ANTHROPIC_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer({
      status: 401,
      headers: { "content-type": "application/json" },
      pieces: [
        '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
      ],
    });
    const err = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err.message,
      /PROVIDER_FAILED: anthropic API returned 401: authentication_error: invalid x-api-key/,
    );
    assert.equal(server.seen.length, 1, "a 401 is not retried");
    const [event] = eventsOf(seen);
    assert.equal(event?.type, "error");
    assert.equal(event?.type === "error" && event.code, "PROVIDER_FAILED");

    server.seen.length = 0;
    server.answer({
      status: 500,
      pieces: [
        '{"type":"error","error":{"type":"api_error","message":"boom"}}',
      ],
    });
    const err5 = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err5.message,
      /anthropic API returned 500 after 3 attempts: api_error: boom/,
    );
    assert.equal(server.seen.length, 3);
  },
});

Deno.test({
  name:
    "provider-anthropic fails with PROVIDER_FAILED and an error event when the stream is cut before message_stop, or sends an error event",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
      secrets: { ANTHROPIC_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer(
      { headers: SSE_HEADERS, pieces: [START, ...textBlock(0, "Hal")] },
      {
        headers: SSE_HEADERS,
        pieces: [START, ...textBlock(0, "Hal")],
        abort: true,
      },
      {
        headers: SSE_HEADERS,
        pieces: [
          START,
          sse("error", {
            type: "error",
            error: { type: "overloaded_error", message: "Overloaded" },
          }),
        ],
      },
    );
    const cut = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(cut.message, /PROVIDER_FAILED: anthropic: the stream ended/);
    assert.deepEqual(eventsOf(seen).map((e) => e.type), [
      "text_delta",
      "error",
    ]);
    const broken = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(broken.message, /PROVIDER_FAILED/);
    const overloaded = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      overloaded.message,
      /PROVIDER_FAILED: anthropic stream error: overloaded_error: Overloaded/,
    );
    assert.equal(eventsOf(seen).at(-1)?.type, "error");
  },
});

Deno.test({
  name:
    "provider-anthropic stops the model call when the request is cancelled: the API sees its stream cancelled",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
      secrets: { ANTHROPIC_API_KEY: KEY },
    });
    const seen = fx.watch("llm.v1.stream.*");
    // The API sends one delta, then holds the connection until cancelled.
    server.answer({
      headers: SSE_HEADERS,
      pieces: [
        START,
        ...textBlock(0, "Thinking").slice(0, 2),
        () => server.cancelled,
      ],
    });
    const cancel = new AbortController();
    const pending = fx.request(TOPIC, llmRequest(), { signal: cancel.signal });
    const outcome = pending.then(() => null, (e: unknown) => e);
    await until(() => seen.length > 0, "the first text_delta")();
    cancel.abort();
    await server.cancelled; // the kernel closed the stream: the model call ended
    assert.ok(await outcome instanceof Error);
  },
});

Deno.test({
  name:
    "provider-anthropic without its API key set fails with PROVIDER_FAILED naming NOT_FOUND, before any connection",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-anthropic", server, {
      apiOrigin: ORIGIN,
    });
    server.answer({ headers: SSE_HEADERS, pieces: [START] });
    const err = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err.message,
      /PROVIDER_FAILED: anthropic: the request failed \(NOT_FOUND\): Secret 'ANTHROPIC_API_KEY' is not set/,
    );
    assert.equal(server.seen.length, 0);
  },
});
