/**
 * The `cache` capsule through a real kernel, in front of the fake provider
 * fixture: miss then hit (one provider call, the stream replayed under the
 * new ids), TTL expiry, the size cap, requests that must not share an entry,
 * the bypass marker refused to requesters, and the counters.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { LlmResponse } from "../sdk/mod.ts";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { JsonValue } from "../kernel/store/store.ts";
import { type AgentFixture, startAgentFixture } from "./agent_fixture_test.ts";
import {
  assembled,
  FAKE_PROVIDER,
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
const TOPIC = "llm.v1.request.generate.fake";

function cacheFixture(
  env: Record<string, string> = {},
  provider: Record<string, string> = {},
): Promise<AgentFixture> {
  return startAgentFixture({
    prefix: "astrid-cache-",
    capsules: ["cache", FAKE_PROVIDER],
    env: { cache: env, "fake-provider": provider },
  });
}

async function cacheStats(fx: AgentFixture): Promise<Record<string, number>> {
  return await fx.runtime.registry.invoke(
    "cache" as CapsuleId,
    "stats",
    {},
  ) as Record<string, number>;
}

function ask(fx: AgentFixture, req: unknown): Promise<LlmResponse> {
  return fx.request<LlmResponse>(TOPIC, req);
}

Deno.test({
  name:
    "cache: a miss calls the provider once, the same request then replays its stream under the new ids",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture();
    const seen = fx.watch("llm.v1.stream.*");
    const first = await ask(fx, llmRequest("r1", "hello", { tools: [TOOL] }));
    assert.equal(first.request_id, "r1");
    assert.equal(first.stop_reason, "tool_use");
    const second = await ask(
      fx,
      llmRequest("r2", "hello", { tools: [TOOL], session_id: "s2" }),
    );
    assert.deepEqual(await providerCalls(fx), { fake: 1 });
    assert.deepEqual(second, { ...first, request_id: "r2" });

    const live = streamOf(seen, "r1");
    const replayed = streamOf(seen, "r2");
    assert.ok(replayed.length > 0);
    for (const m of replayed) {
      assert.equal(m.topic, "llm.v1.stream.fake");
      assert.equal(m.session_id, "s2");
    }
    assert.deepEqual(assembled(replayed), assembled(live));
    assert.equal(assembled(replayed).text, "fake/default: hello");
    assert.deepEqual(assembled(replayed).tools, [{
      id: "call_1",
      name: "read_file",
      args: JSON.stringify({ q: "fake/default: hello" }),
    }]);
    assert.equal(replayed.at(-1)?.event.type, "done");

    const stats = await cacheStats(fx);
    assert.equal(stats.misses, 1);
    assert.equal(stats.hits, 1);
    assert.equal(stats.stores, 1);
    assert.equal(stats.entries, 1);
  },
});

Deno.test({
  name:
    "cache: requests differing in text, model, tools or provider fields get their own entries",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture();
    const variants = [
      llmRequest("a", "hello"),
      llmRequest("b", "hello!"),
      llmRequest("c", "hello", { model: "big" }),
      llmRequest("d", "hello", { tools: [TOOL] }),
      llmRequest("e", "hello", { system: "You are verbose." }),
      llmRequest("f", "hello", { max_tokens: 10 }),
      llmRequest("g", "hello", { temperature: 0.5 }), // unknown fields count too
    ];
    const answers = [];
    for (const v of variants) answers.push(await ask(fx, v));
    assert.deepEqual(await providerCalls(fx), { fake: variants.length });
    assert.equal(answers[2]!.model, "big");
    // every variant again (new ids, other session): all hits
    for (const v of variants) {
      const again = await ask(fx, {
        ...v,
        request_id: `${v.request_id}2`,
        session_id: "s9",
      });
      assert.deepEqual(again, {
        ...answers[variants.indexOf(v)],
        request_id: `${v.request_id}2`,
      });
    }
    assert.deepEqual(await providerCalls(fx), { fake: variants.length });
    const stats = await cacheStats(fx);
    assert.equal(stats.misses, variants.length);
    assert.equal(stats.hits, variants.length);
  },
});

Deno.test({
  name: "cache: scope = session keeps sessions apart",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture({ scope: "session" });
    await ask(fx, llmRequest("r1", "hi", { session_id: "s1" }));
    await ask(fx, llmRequest("r2", "hi", { session_id: "s2" }));
    await ask(fx, llmRequest("r3", "hi", { session_id: "s1" }));
    assert.deepEqual(await providerCalls(fx), { fake: 2 });
    const stats = await cacheStats(fx);
    assert.equal(stats.hits, 1);
    assert.equal(stats.misses, 2);
  },
});

Deno.test({
  name:
    "cache: an entry expires after ttl_ms and the provider is asked again; a store sweeps other expired entries",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture({ ttl_ms: "3000" });
    await ask(fx, llmRequest("r1", "tick"));
    await ask(fx, llmRequest("r2", "tick"));
    await ask(fx, llmRequest("o1", "other"));
    assert.deepEqual(await providerCalls(fx), { fake: 2 });
    await new Promise((r) => setTimeout(r, 3_500));
    const third = await ask(fx, llmRequest("r3", "tick"));
    assert.equal(third.request_id, "r3");
    assert.deepEqual(await providerCalls(fx), { fake: 3 });
    const stats = await cacheStats(fx);
    assert.equal(stats.hits, 1);
    assert.equal(stats.misses, 3);
    assert.equal(stats.expired, 2); // tick on lookup, other by the sweep
    assert.equal(stats.entries, 1);
  },
});

Deno.test({
  name: "cache: max_entries evicts the oldest entry",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture({ max_entries: "2" });
    await ask(fx, llmRequest("1", "a"));
    await ask(fx, llmRequest("2", "b"));
    await ask(fx, llmRequest("3", "c"));
    await ask(fx, llmRequest("4", "c")); // kept: hit
    await ask(fx, llmRequest("5", "a")); // evicted: miss
    assert.deepEqual(await providerCalls(fx), { fake: 4 });
    const stats = await cacheStats(fx);
    assert.equal(stats.evictions, 2);
    assert.equal(stats.entries, 2);
    assert.equal(stats.hits, 1);
  },
});

Deno.test({
  name:
    "cache: an error answer or one above max_entry_bytes is returned but not stored",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture({ max_entry_bytes: "600" });
    const failed = await ask(fx, llmRequest("r1", "[error]"));
    assert.equal(failed.stop_reason, "error");
    await ask(fx, llmRequest("r2", "[error]"));
    const long = "x".repeat(700);
    assert.equal((await ask(fx, llmRequest("r3", long))).request_id, "r3");
    await ask(fx, llmRequest("r4", long));
    assert.deepEqual(await providerCalls(fx), { fake: 4 });
    const stats = await cacheStats(fx);
    assert.equal(stats.uncacheable, 2);
    assert.equal(stats.too_large, 2);
    assert.equal(stats.entries, 0);
  },
});

Deno.test({
  name:
    "cache: a requester sending the bypass marker is denied; nothing reaches the provider or the store",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture();
    const seen = fx.watch("llm.v1.stream.*");
    for (const marker of ["bypass", "store", true]) {
      await assert.rejects(
        ask(fx, { ...llmRequest("evil", "poison"), cache: marker }),
        /reserved to the cache capsule/,
      );
    }
    assert.deepEqual(await providerCalls(fx), { fake: 0 });
    assert.equal(streamOf(seen, "evil").length, 0);
    const stats = await cacheStats(fx);
    assert.equal(stats.refused, 3);
    assert.equal(stats.entries, 0);
    assert.equal(stats.misses, 0);
  },
});

Deno.test({
  name:
    "cache: another capsule sending the bypass marker is denied too (only the cache's own calls may carry it)",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture();
    await assert.rejects(
      fx.runtime.registry.invoke("fake-provider" as CapsuleId, "relay", {
        topic: TOPIC,
        request: { ...llmRequest("evil", "poison"), cache: "bypass" },
      } as unknown as JsonValue),
      /reserved to the cache capsule/,
    );
    assert.deepEqual(await providerCalls(fx), { fake: 0 });
    assert.equal((await cacheStats(fx)).refused, 1);
  },
});

Deno.test({
  name:
    "cache: after a refused bypass the same request is an ordinary miss answered by the provider",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture();
    await assert.rejects(
      ask(fx, { ...llmRequest("evil", "poison"), cache: "bypass" }),
      /reserved/,
    );
    const honest = await ask(fx, llmRequest("r1", "poison"));
    assert.equal(honest.content[0]?.type, "text");
    assert.deepEqual(await providerCalls(fx), { fake: 1 });
    assert.deepEqual(await ask(fx, llmRequest("r2", "poison")), {
      ...honest,
      request_id: "r2",
    });
    assert.deepEqual(await providerCalls(fx), { fake: 1 });
  },
});

Deno.test({
  name:
    "cache: providers listed in skip pass straight through, uncounted as misses",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture({ skip: "fake" });
    await ask(fx, llmRequest("r1", "hi"));
    await ask(fx, llmRequest("r2", "hi"));
    assert.deepEqual(await providerCalls(fx), { fake: 2 });
    const stats = await cacheStats(fx);
    assert.equal(stats.skipped, 2);
    assert.equal(stats.misses, 0);
    assert.equal(stats.entries, 0);
  },
});

Deno.test({
  name:
    "cache: more concurrent misses than its instances do not deadlock (the excess passes through uncached)",
  permissions: PERMS,
  async fn() {
    await using fx = await cacheFixture({ request_timeout_ms: "20000" }, {
      delay_ms: "150",
    });
    const ids = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const answers = await Promise.all(
      ids.map((id) => ask(fx, llmRequest(id, `question ${id}`))),
    );
    assert.deepEqual(answers.map((a) => a.request_id), ids);
    assert.deepEqual(await providerCalls(fx), { fake: ids.length });
    const stats = await cacheStats(fx);
    assert.equal((stats.misses ?? 0) + (stats.saturated ?? 0), ids.length);
    assert.ok((stats.saturated ?? 0) > 0, JSON.stringify(stats));
    assert.equal(stats.entries, stats.stores);
  },
});
