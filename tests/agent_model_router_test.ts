/**
 * The `model-router` capsule through a real kernel, in front of the fake
 * provider fixture answering as `cheap`, `mid` and `strong`: the choice by
 * tool use, prompt size and cost, the chosen provider is the one called (with
 * its model) and streams itself, the counters, and a config error at the
 * first request.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { LlmResponse } from "../sdk/mod.ts";
import type { CapsuleId } from "../kernel/core/ids.ts";
import { type AgentFixture, startAgentFixture } from "./agent_fixture_test.ts";
import {
  FAKE_PROVIDER,
  lastRequest,
  llmRequest,
  providerCalls,
  streamOf,
  TOOL,
} from "./agent_llm_helpers_test.ts";

const PERMS = {
  read: true,
  write: true,
  env: true,
  run: true,
  net: false,
} as const;
const AUTO = "llm.v1.request.generate.auto";

const PROVIDERS = {
  cheap: {
    input_per_mtok: 0.1,
    output_per_mtok: 0.4,
    context_tokens: 4000,
    tools: false,
    model: "cheap-1",
  },
  mid: { input_per_mtok: 1, output_per_mtok: 4, model: "mid-1" },
  strong: { input_per_mtok: 3, output_per_mtok: 15, model: "strong-1" },
};

function routerFixture(
  env: Record<string, string> = {},
): Promise<AgentFixture> {
  return startAgentFixture({
    prefix: "astrid-router-",
    capsules: ["model-router", FAKE_PROVIDER],
    env: {
      "model-router": {
        providers: JSON.stringify(PROVIDERS),
        rules: JSON.stringify([
          { tools: true, use: "strong" },
          { min_prompt_tokens: 1500, use: "mid" },
        ]),
        default: "cheapest",
        ...env,
      },
      "fake-provider": { providers: "cheap,mid,strong" },
    },
  });
}

async function routerStats(fx: AgentFixture) {
  return await fx.runtime.registry.invoke(
    "model-router" as CapsuleId,
    "stats",
    {},
  ) as {
    requests: number;
    by_provider: Record<string, number>;
    last: { provider: string; reason: string; request_id: string } | null;
  };
}

function ask(fx: AgentFixture, req: unknown): Promise<LlmResponse> {
  return fx.request<LlmResponse>(AUTO, req);
}

Deno.test({
  name:
    "model-router: small without tools → cheapest, tools → strong, large → mid; only the chosen provider is called and streams",
  permissions: PERMS,
  async fn() {
    await using fx = await routerFixture();
    const seen = fx.watch("llm.v1.stream.*");

    const small = await ask(fx, llmRequest("r1", "hi"));
    assert.equal(small.request_id, "r1");
    assert.equal(small.model, "cheap-1");
    assert.deepEqual(small.content, [{
      type: "text",
      text: "cheap/cheap-1: hi",
    }]);
    assert.deepEqual(await providerCalls(fx), { cheap: 1, mid: 0, strong: 0 });
    assert.equal((await lastRequest(fx, "cheap"))?.request_id, "r1");

    const tooled = await ask(fx, llmRequest("r2", "hi", { tools: [TOOL] }));
    assert.equal(tooled.model, "strong-1");
    assert.equal(tooled.stop_reason, "tool_use");

    const large = await ask(fx, llmRequest("r3", "x".repeat(8000)));
    assert.equal(large.model, "mid-1");
    assert.deepEqual(await providerCalls(fx), { cheap: 1, mid: 1, strong: 1 });

    const topics = (
      id: string,
    ) => [...new Set(streamOf(seen, id).map((m) => m.topic))];
    assert.deepEqual(topics("r1"), ["llm.v1.stream.cheap"]);
    assert.deepEqual(topics("r2"), ["llm.v1.stream.strong"]);
    assert.deepEqual(topics("r3"), ["llm.v1.stream.mid"]);
    assert.ok(!seen.some((e) => e.topic === "llm.v1.stream.auto"));

    const stats = await routerStats(fx);
    assert.equal(stats.requests, 3);
    assert.deepEqual(stats.by_provider, { cheap: 1, strong: 1, mid: 1 });
    assert.equal(stats.last?.provider, "mid");
    assert.equal(stats.last?.request_id, "r3");
    assert.equal(stats.last?.reason, "rule 2");
  },
});

Deno.test({
  name:
    "model-router: cheapest picks by the cost table among the providers that fit the prompt",
  permissions: PERMS,
  async fn() {
    await using fx = await routerFixture({
      rules: "[]",
      providers: JSON.stringify({
        ...PROVIDERS,
        // strong is now cheaper than mid: cost decides, not the name
        strong: {
          ...PROVIDERS.strong,
          input_per_mtok: 0.5,
          output_per_mtok: 1,
        },
      }),
    });
    // ~2000 prompt tokens + 1000 output fit cheap's 4000-token context
    assert.equal(
      (await ask(fx, llmRequest("r1", "y".repeat(8000)))).model,
      "cheap-1",
    );
    // ~3500 + 1000 do not: the cheapest that fits is strong (0.5/1 < mid's 1/4)
    assert.equal(
      (await ask(fx, llmRequest("r2", "y".repeat(14000)))).model,
      "strong-1",
    );
    // tools: cheap cannot call tools
    assert.equal(
      (await ask(fx, llmRequest("r3", "hi", { tools: [TOOL] }))).model,
      "strong-1",
    );
    assert.deepEqual(await providerCalls(fx), { cheap: 1, mid: 0, strong: 2 });
    assert.match((await routerStats(fx)).last?.reason ?? "", /cheapest/);
  },
});

Deno.test({
  name: "model-router: an explicit default catches what no rule matches",
  permissions: PERMS,
  async fn() {
    await using fx = await routerFixture({
      rules: JSON.stringify([{ tools: true, use: "strong" }]),
      default: "mid",
    });
    assert.equal((await ask(fx, llmRequest("r1", "hi"))).model, "mid-1");
    assert.equal((await routerStats(fx)).last?.reason, "default");
  },
});

Deno.test({
  name:
    "model-router: an unknown provider in the rules fails the first request with a config error",
  permissions: PERMS,
  async fn() {
    await using fx = await routerFixture({
      rules: JSON.stringify([{ tools: true, use: "nope" }]),
    });
    await assert.rejects(
      ask(fx, llmRequest("r1", "hi")),
      /model-router config: rule 1 uses unknown provider "nope"/,
    );
    assert.deepEqual(await providerCalls(fx), { cheap: 0, mid: 0, strong: 0 });
  },
});

Deno.test({
  name:
    "model-router with the cache: the chosen provider's answer is cached, an identical auto request is a hit replayed on that provider's stream",
  permissions: PERMS,
  async fn() {
    await using fx = await startAgentFixture({
      prefix: "astrid-router-cache-",
      capsules: ["cache", "model-router", FAKE_PROVIDER],
      env: {
        "model-router": {
          providers: JSON.stringify(PROVIDERS),
          rules: JSON.stringify([{ tools: true, use: "strong" }]),
          default: "cheapest",
        },
        "fake-provider": { providers: "cheap,mid,strong" },
      },
    });
    const seen = fx.watch("llm.v1.stream.*");
    const first = await ask(fx, llmRequest("r1", "hi", { tools: [TOOL] }));
    const second = await ask(
      fx,
      llmRequest("r2", "hi", { tools: [TOOL], session_id: "s2" }),
    );
    assert.deepEqual(second, { ...first, request_id: "r2" });
    assert.equal(first.model, "strong-1");
    assert.deepEqual(await providerCalls(fx), { cheap: 0, mid: 0, strong: 1 });
    assert.equal((await routerStats(fx)).requests, 2);
    const replayed = streamOf(seen, "r2");
    assert.ok(replayed.length > 0);
    assert.ok(replayed.every((m) => m.topic === "llm.v1.stream.strong"));
    assert.ok(replayed.every((m) => m.session_id === "s2"));
    const cache = await fx.runtime.registry.invoke(
      "cache" as CapsuleId,
      "stats",
      {},
    ) as Record<string, number>;
    assert.equal(cache.hits, 1);
    assert.equal(cache.misses, 1);
    assert.equal(cache.skipped, 2); // 'auto' itself is not cached
  },
});

Deno.test({
  name:
    "model-router: a chosen provider nobody answers for fails at once, the reason naming it",
  permissions: PERMS,
  async fn() {
    await using fx = await routerFixture({
      providers: JSON.stringify({
        ...PROVIDERS,
        ghost: { input_per_mtok: 0, output_per_mtok: 0 },
      }),
      rules: "[]",
    });
    await assert.rejects(
      ask(fx, llmRequest("r1", "hi")),
      /model-router: provider 'ghost' failed: .*nothing subscribes/,
    );
    assert.deepEqual(await providerCalls(fx), { cheap: 0, mid: 0, strong: 0 });
  },
});
