/**
 * The pure parts of the cache: the hash, the key, the stored-answer check,
 * the rebuilt stream and the config (its behaviour through a real kernel is
 * in `agent_cache_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../capsules/cache/_sha256.ts";
import {
  cacheKey,
  canonicalJson,
  isCacheable,
  streamOf,
} from "../capsules/cache/_entry.ts";
import { readConfig as cacheConfig } from "../capsules/cache/_config.ts";
import { llmRequest } from "./agent_llm_helpers_test.ts";

Deno.test("cache sha256: matches WebCrypto on ASCII, multi-byte text and block edges", async () => {
  for (
    const text of [
      "",
      "abc",
      "héllo 🌍 \u0000",
      "lone \ud800 high",
      "lone \udc00 low",
      "end \ud83d",
      "x".repeat(55),
      "x".repeat(64),
      "z".repeat(1000),
    ]
  ) {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join(
      "",
    );
    assert.equal(sha256Hex(text), hex);
  }
});

Deno.test("cache key: ignores request_id, key order and (global scope) session_id; keeps every other field", () => {
  const a = llmRequest("r1", "hi") as unknown as Record<string, unknown>;
  const b = { ...a, request_id: "r2", session_id: "s2" };
  const reordered = Object.fromEntries(Object.entries(a).reverse());
  assert.equal(cacheKey("p", a, "global"), cacheKey("p", b, "global"));
  assert.equal(cacheKey("p", a, "global"), cacheKey("p", reordered, "global"));
  assert.notEqual(cacheKey("p", a, "session"), cacheKey("p", b, "session"));
  assert.notEqual(cacheKey("p", a, "global"), cacheKey("q", a, "global"));
  assert.notEqual(
    cacheKey("p", a, "global"),
    cacheKey("p", { ...a, top_p: 0.1 }, "global"),
  );
  assert.equal(
    cacheKey("p", a, "global"),
    cacheKey("p", { ...a, cache: "bypass" }, "global"),
  );
  assert.equal(
    canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }),
    '{"a":null,"b":[1,{"c":2,"d":1}]}',
  );
});

Deno.test("cache entry: only complete non-error answers are stored; the stream is rebuilt in order", () => {
  const ok = {
    request_id: "r",
    model: "m",
    content: [
      { type: "text", text: "Reading." },
      { type: "tool_use", id: "c1", name: "read_file", input: { path: "a" } },
    ],
    stop_reason: "tool_use",
    usage: { input_tokens: 3, output_tokens: 4 },
  } as const;
  assert.ok(isCacheable(ok));
  assert.ok(!isCacheable({ ...ok, stop_reason: "error" }));
  assert.ok(!isCacheable({ ...ok, content: [{ type: "image" }] }));
  assert.ok(!isCacheable({ ...ok, usage: undefined }));
  assert.ok(!isCacheable(null));
  assert.deepEqual(streamOf(ok).map((e) => e.type), [
    "text_delta",
    "tool_call_start",
    "tool_call_delta",
    "tool_call_end",
    "usage",
    "done",
  ]);
});

Deno.test("cache config: defaults, clamps and a clear error", () => {
  const d = cacheConfig({});
  assert.equal(d.scope, "global");
  assert.deepEqual(d.skip, ["auto"]);
  assert.equal(
    cacheConfig({ max_entry_bytes: "10000000" }).maxEntryBytes,
    60_000,
  );
  assert.throws(
    () => cacheConfig({ ttl_ms: "soon" }),
    /cache config: 'ttl_ms'/,
  );
  assert.throws(() => cacheConfig({ scope: "user" }), /cache config: 'scope'/);
});
