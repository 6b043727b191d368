/**
 * provider-ollama through the real kernel: a loopback server speaks
 * Ollama's NDJSON chat stream; the capsule is reached only over the bus.
 * Ollama is local, so the policy must allow private networks
 * (`security.allow_private_networks`) — as the operator of a local Ollama
 * sets it.
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

const TOPIC = "llm.v1.request.generate.ollama";
const ORIGIN = "http://localhost:11434";
const PRIVATE = "[security]\nallow_private_networks = true\n";
const NDJSON = { "content-type": "application/x-ndjson" };

function line(message: Record<string, unknown>, extra = {}): string {
  return JSON.stringify({
    model: "llama-test",
    created_at: "2026-12-07T00:00:00Z",
    message: { role: "assistant", content: "", ...message },
    done: false,
    ...extra,
  }) + "\n";
}

function done(reason = "stop"): string {
  return JSON.stringify({
    model: "llama-test",
    created_at: "2026-12-07T00:00:01Z",
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: reason,
    total_duration: 1,
    prompt_eval_count: 26,
    eval_count: 12,
  }) + "\n";
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof Error, "the request must fail");
  return err;
}

Deno.test({
  name:
    "provider-ollama streams NDJSON text and tool calls (arguments as objects): events reach the bus before the server finishes, the response is assembled",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-ollama", server, {
      apiOrigin: ORIGIN,
      config: PRIVATE,
    });
    const seen = fx.watch("llm.v1.stream.*");
    const split = line({ content: "both." });
    server.answer({
      headers: NDJSON,
      pieces: [
        line({ content: "Checking " }),
        until(() => seen.length > 0, "the first text_delta on the bus"),
        // One line cut across two network chunks.
        split.slice(0, 20),
        split.slice(20),
        line({
          tool_calls: [
            { function: { name: "read_file", arguments: { path: "a.txt" } } },
            { function: { name: "list_directory", arguments: {} } },
          ],
        }),
        done(),
      ],
    });
    const res = await fx.request<LlmResponse>(
      TOPIC,
      llmRequest({
        max_tokens: 64,
        tools: [{
          name: "read_file",
          description: "Reads a file",
          input_schema: { type: "object" },
        }],
      }),
    );
    assert.deepEqual(res, {
      request_id: "req-1",
      model: "llama-test",
      content: [
        { type: "text", text: "Checking both." },
        {
          type: "tool_use",
          id: "call_0",
          name: "read_file",
          input: { path: "a.txt" },
        },
        { type: "tool_use", id: "call_1", name: "list_directory", input: {} },
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 26, output_tokens: 12 },
    });
    assert.deepEqual(eventsOf(seen).map((e) => e.type), [
      "text_delta",
      "text_delta",
      "tool_call_start",
      "tool_call_delta",
      "tool_call_end",
      "tool_call_start",
      "tool_call_delta",
      "tool_call_end",
      "usage",
      "done",
    ]);
    const [req] = server.seen;
    assert.equal(req?.path, "/api/chat");
    assert.deepEqual(req?.body, {
      model: "llama3.2",
      stream: true,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      options: { num_predict: 64 },
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
    "provider-ollama gives a tool call with malformed string arguments input {} and tells the model in a text block",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-ollama", server, {
      apiOrigin: ORIGIN,
      config: PRIVATE,
    });
    server.answer({
      headers: NDJSON,
      pieces: [
        line({
          tool_calls: [{ function: { name: "grep", arguments: "{pattern:" } }],
        }),
        done(),
      ],
    });
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [
      { type: "tool_use", id: "call_0", name: "grep", input: {} },
      {
        type: "text",
        text:
          '[The arguments of tool call call_0 (grep) were not valid JSON, so the call was made with {}. They began: "{pattern:"]',
      },
    ]);
  },
});

Deno.test({
  name:
    "provider-ollama retries a 429 after its retry-after and a 503, then answers; surfaces an API error's message; gives up on 5xx after bounded attempts",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-ollama", server, {
      apiOrigin: ORIGIN,
      config: PRIVATE,
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer(
      {
        status: 429,
        headers: { "retry-after": "0" },
        pieces: ['{"error":"too many requests"}'],
      },
      { status: 503, pieces: ['{"error":"server busy"}'] },
      { headers: NDJSON, pieces: [line({ content: "ok" }), done()] },
      {
        status: 404,
        pieces: [
          '{"error":"model \\"nope\\" not found, try pulling it first"}',
        ],
      },
    );
    const res = await fx.request<LlmResponse>(TOPIC, llmRequest());
    assert.deepEqual(res.content, [{ type: "text", text: "ok" }]);
    assert.equal(server.seen.length, 3);
    const err = await failure(fx.request(TOPIC, llmRequest({ model: "nope" })));
    assert.match(
      err.message,
      /PROVIDER_FAILED: ollama API returned 404: model "nope" not found/,
    );
    assert.equal(eventsOf(seen).at(-1)?.type, "error");
    server.seen.length = 0;
    server.answer({ status: 500, pieces: ['{"error":"boom"}'] });
    const err5 = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err5.message,
      /ollama API returned 500 after 3 attempts: boom/,
    );
    assert.equal(server.seen.length, 3);
  },
});

Deno.test({
  name:
    "provider-ollama fails with PROVIDER_FAILED and an error event when the stream is cut before done, or sends an error line",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-ollama", server, {
      apiOrigin: ORIGIN,
      config: PRIVATE,
    });
    const seen = fx.watch("llm.v1.stream.*");
    server.answer(
      { headers: NDJSON, pieces: [line({ content: "Hal" })] },
      {
        headers: NDJSON,
        pieces: [line({ content: "Hal" }), '{"error":"model crashed"}\n'],
      },
    );
    const cut = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      cut.message,
      /PROVIDER_FAILED: ollama: the stream ended before done/,
    );
    assert.deepEqual(eventsOf(seen).map((e) => e.type), [
      "text_delta",
      "error",
    ]);
    const bad = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      bad.message,
      /PROVIDER_FAILED: ollama stream error: model crashed/,
    );
  },
});

Deno.test({
  name:
    "provider-ollama is refused by the SSRF policy (before any connection) unless private networks are allowed",
  permissions: PROVIDER_PERMS,
  async fn() {
    await using server = scriptedServer();
    await using fx = await startProviderFixture("provider-ollama", server, {
      apiOrigin: ORIGIN,
    });
    server.answer({
      headers: NDJSON,
      pieces: [line({ content: "x" }), done()],
    });
    const err = await failure(fx.request(TOPIC, llmRequest()));
    assert.match(
      err.message,
      /PROVIDER_FAILED: ollama: the request failed \(POLICY_BLOCKED\)/,
    );
    assert.equal(server.seen.length, 0);
  },
});
