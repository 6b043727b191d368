/**
 * The pure parts of the model router: config checks, token estimate and
 * choice (its behaviour through a real kernel is in `agent_model_router_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  choose,
  estimateTokens,
  readConfig,
} from "../capsules/model-router/_rules.ts";
import { llmRequest, TOOL } from "./agent_llm_helpers_test.ts";

const PROVIDERS = JSON.stringify({
  cheap: {
    input_per_mtok: 0.1,
    output_per_mtok: 0.4,
    context_tokens: 4000,
    tools: false,
  },
  strong: { input_per_mtok: 3, output_per_mtok: 15, model: "big" },
});

Deno.test("model-router config: unknown providers, keys, names and malformed JSON are refused by name", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [
      { providers: PROVIDERS, rules: '[{"use":"nope"}]' },
      /rule 1 uses unknown provider "nope"/,
    ],
    [
      { providers: PROVIDERS, default: "gone" },
      /'default' uses unknown provider "gone"/,
    ],
    [
      { providers: PROVIDERS, rules: '[{"tool":true,"use":"cheap"}]' },
      /rule 1 has unknown key 'tool'/,
    ],
    [{ providers: PROVIDERS, rules: "[{" }, /'rules' is not JSON/],
    [
      { providers: '{"auto":{"input_per_mtok":1,"output_per_mtok":1}}' },
      /'auto' is not usable/,
    ],
    [
      { providers: '{"a.b":{"input_per_mtok":1,"output_per_mtok":1}}' },
      /'a.b' is not usable/,
    ],
    [
      { providers: '{"x":{"input_per_mtok":-1,"output_per_mtok":1}}' },
      /input_per_mtok must be a non-negative number/,
    ],
    [{ providers: "{}" }, /'providers' is empty/],
  ];
  for (const [config, message] of bad) {
    assert.throws(() => readConfig(config), (err: Error) => {
      assert.match(err.message, /^model-router config: /);
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test("model-router choice: tokens estimated from chars/4; cheapest respects context and tools; no fit is an error", () => {
  const cfg = readConfig({ providers: PROVIDERS, rules: "[]" });
  const small = llmRequest("r", "x".repeat(400), { system: "" });
  assert.equal(estimateTokens(small), 100);
  assert.equal(choose(cfg, small).provider, "cheap");
  assert.equal(choose(cfg, small).model, "");
  const big = llmRequest("r", "x".repeat(12_400), { system: "" });
  assert.equal(choose(cfg, big).provider, "strong");
  assert.equal(choose(cfg, big).model, "big");
  assert.equal(choose(cfg, { ...small, tools: [TOOL] }).provider, "strong");
  const onlyCheap = readConfig({
    providers: JSON.stringify({ cheap: JSON.parse(PROVIDERS).cheap }),
  });
  assert.throws(
    () => choose(onlyCheap, { ...small, tools: [TOOL] }),
    /no provider fits a \d+-token prompt with tools/,
  );
});
