/**
 * The identity capsule through the real kernel: the persona, with and
 * without the workspace's AGENTS.md, configured, and capped.
 */
import assert from "node:assert/strict";
import {
  agentTest,
  startAgentFixture,
} from "../../tests/agent_fixture_test.ts";

interface Prompt {
  prompt: string;
}

agentTest("identity: the default persona, without AGENTS.md", async () => {
  await using fx = await startAgentFixture({
    prefix: "astrid-identity-none-",
    capsules: ["identity"],
  });
  const { prompt } = await fx.request<Prompt>("spark.v1.request.build", {
    session_id: "s",
  });
  assert.match(prompt, /You are Astrid/);
  assert.match(prompt, /security gate/);
  assert.doesNotMatch(prompt, /AGENTS\.md/);
});

agentTest(
  "identity: the workspace's AGENTS.md follows the persona",
  async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-identity-agents-",
      capsules: ["identity"],
      files: { "AGENTS.md": "# Rules\n\nAlways run `deno task ok`.\n" },
    });
    const { prompt } = await fx.request<Prompt>("spark.v1.request.build", {
      session_id: "s",
    });
    assert.match(prompt, /^You are Astrid/);
    assert.match(
      prompt,
      /AGENTS\.md[^\n]*\n\n# Rules\n\nAlways run `deno task ok`\./,
    );
  },
);

agentTest(
  "identity: a configured system prompt, and AGENTS.md capped",
  async () => {
    await using fx = await startAgentFixture({
      prefix: "astrid-identity-config-",
      capsules: ["identity"],
      files: { "AGENTS.md": "a".repeat(5000) },
      runtime: {
        capsuleConfig: {
          identity: {
            system_prompt: "You are a test persona.",
            agents_md_max_chars: "100",
          },
        },
      },
    });
    const { prompt } = await fx.request<Prompt>("spark.v1.request.build", {
      session_id: "s",
    });
    assert.match(prompt, /^You are a test persona\./);
    assert.doesNotMatch(prompt, /You are Astrid/);
    assert.ok(
      prompt.includes(
        `${"a".repeat(100)}\n[AGENTS.md truncated at 100 characters]`,
      ),
    );
    assert.ok(!prompt.includes("a".repeat(101)));
  },
);
