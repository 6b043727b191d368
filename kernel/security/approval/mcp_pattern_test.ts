import assert from "node:assert/strict";
import { KernelError } from "../../core/errors.ts";
import { parsePrincipalId, parseSessionId } from "../../core/ids.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import type { Action } from "../action.ts";
import type { GateContext } from "../context.ts";
import { parseAllowance, parseAllowancePattern } from "./allowance.ts";
import {
  allowanceFromAction,
  allowancePatternFor,
} from "./allowance_from_action.ts";
import {
  type AllowancePattern,
  describeAllowancePattern,
  matchesAllowancePattern,
} from "./allowance_pattern.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

const ctx: GateContext = {
  principal: parsePrincipalId("alice"),
  session: parseSessionId("00000000-0000-4000-8000-000000000001"),
  workspace: "/ws",
  callId: "c1",
};

const READ: Action = {
  type: "mcp_resource_read",
  server: "a",
  uri: "mem://notes/1",
};
const PROMPT: Action = { type: "mcp_prompt_get", server: "a", name: "review" };
const FORM: Action = {
  type: "mcp_elicitation",
  server: "a",
  mode: "form",
  message: "Repo?",
};
const URL_GH: Action = {
  type: "mcp_elicitation",
  server: "a",
  mode: "url",
  message: "Log in",
  url: "https://github.com/login/device",
};
const SAMPLE: Action = {
  type: "mcp_sampling",
  server: "a",
  "max_tokens": 100,
  "prompt_chars": 10,
};

/** The pattern an approval of `action` creates, which must exist. */
function patternOf(action: Action): AllowancePattern {
  const p = allowancePatternFor(action);
  assert.ok(p, JSON.stringify(action));
  return p;
}

function covers(approved: Action, asking: Action): boolean {
  return matchesAllowancePattern(patternOf(approved), asking);
}

test("`allowancePatternFor()` binds MCP requests to server, URI, name, mode and URL host", () => {
  assert.deepEqual(patternOf(READ), {
    type: "mcp_resource",
    server: "a",
    uri: "mem://notes/1",
  });
  assert.deepEqual(patternOf(PROMPT), {
    type: "mcp_prompt",
    server: "a",
    name: "review",
  });
  assert.deepEqual(patternOf(FORM), {
    type: "mcp_elicitation",
    server: "a",
    mode: "form",
  });
  assert.deepEqual(patternOf(URL_GH), {
    type: "mcp_elicitation",
    server: "a",
    mode: "url",
    host: "github.com",
  });
  assert.deepEqual(patternOf(SAMPLE), { type: "mcp_sampling", server: "a" });
  assert.equal(
    allowancePatternFor({ ...URL_GH, url: "javascript:alert(1)" }),
    null,
  );
});

test("`matchesAllowancePattern()` covers the same MCP request again, and sampling of any size", () => {
  for (const a of [READ, PROMPT, FORM, URL_GH, SAMPLE]) assert.ok(covers(a, a));
  assert.ok(covers(URL_GH, { ...URL_GH, url: "https://GITHUB.com/other?x=1" }));
  assert.ok(covers(SAMPLE, { ...SAMPLE, "max_tokens": 4000 }));
  assert.ok(covers(FORM, { ...FORM, message: "Another question" }));
});

test("`matchesAllowancePattern()` never lets a session allowance for server A cover server B", () => {
  for (const a of [READ, PROMPT, FORM, URL_GH, SAMPLE]) {
    assert.ok(!covers(a, { ...a, server: "b" }), a.type);
    assert.ok(!covers(a, { ...a, server: "A" }), a.type);
  }
});

test("`matchesAllowancePattern()` keeps MCP allowances narrow: other URI, prompt, mode, host or type", () => {
  assert.ok(!covers(READ, { ...READ, uri: "mem://notes/2" }));
  assert.ok(!covers(READ, { ...READ, uri: "mem://notes/1/../2" }));
  assert.ok(!covers(PROMPT, { ...PROMPT, name: "deploy" }));
  assert.ok(!covers(FORM, URL_GH));
  assert.ok(!covers(URL_GH, FORM));
  assert.ok(!covers(URL_GH, { ...URL_GH, url: "https://evil.example/" }));
  assert.ok(
    !covers(URL_GH, { ...URL_GH, url: "https://github.com@evil.example/" }),
  );
  assert.ok(
    !covers(URL_GH, { ...URL_GH, url: "https://github.com.evil.example/" }),
  );
  assert.ok(!covers(URL_GH, { ...URL_GH, url: "javascript:alert(1)" }));
  assert.ok(
    !covers(FORM, { ...FORM, url: "https://github.com/" } as Action),
  );
  assert.ok(!covers(SAMPLE, READ));
  assert.ok(!covers(READ, SAMPLE));
  assert.ok(
    !matchesAllowancePattern(
      { type: "mcp_elicitation", server: "a", mode: "url" },
      URL_GH,
    ),
  );
});

test("`matchesAllowancePattern()` tool-call patterns never cover other MCP requests", () => {
  for (const a of [READ, PROMPT, FORM, URL_GH, SAMPLE]) {
    assert.ok(
      !matchesAllowancePattern({ type: "server_tools", server: "a" }, a),
      a.type,
    );
    assert.ok(
      !matchesAllowancePattern(
        { type: "workspace_relative", pattern: "**", permission: "invoke" },
        a,
        { workspace: "/ws" },
      ),
      a.type,
    );
  }
  const tool: Action = { type: "mcp_tool_call", server: "a", tool: "review" };
  for (const a of [READ, PROMPT, FORM, URL_GH, SAMPLE]) {
    assert.ok(!covers(a, tool), a.type);
  }
});

test("`describeAllowancePattern()` shows MCP request patterns as their resources", () => {
  assert.equal(
    describeAllowancePattern(patternOf(READ)),
    "mcp-resource://a/mem://notes/1",
  );
  assert.equal(
    describeAllowancePattern(patternOf(PROMPT)),
    "mcp-prompt://a/review",
  );
  assert.equal(
    describeAllowancePattern(patternOf(FORM)),
    "mcp-elicit://a/form",
  );
  assert.equal(
    describeAllowancePattern(patternOf(URL_GH)),
    "mcp-elicit://a/url/github.com",
  );
  assert.equal(describeAllowancePattern(patternOf(SAMPLE)), "mcp-sampling://a");
});

test("`parseAllowance()` round-trips a stored MCP allowance and rejects malformed patterns", () => {
  for (const action of [READ, PROMPT, FORM, URL_GH, SAMPLE]) {
    const a = allowanceFromAction(action, {
      scope: "session",
      ctx,
      now: 1,
      random: new SeededRandom(3),
    });
    assert.ok(a);
    assert.deepEqual(parseAllowance(JSON.parse(JSON.stringify(a))), a);
  }
  const bad: unknown[] = [
    { type: "mcp_resource", server: "a" },
    { type: "mcp_prompt", server: "", name: "p" },
    { type: "mcp_elicitation", server: "a", mode: "url" },
    { type: "mcp_elicitation", server: "a", mode: "form", host: "x.io" },
    { type: "mcp_elicitation", server: "a", mode: "popup" },
    { type: "mcp_sampling" },
  ];
  for (const raw of bad) {
    assert.throws(
      () => parseAllowancePattern(raw),
      (e: unknown) => KernelError.is(e, "INVALID_INPUT"),
      JSON.stringify(raw),
    );
  }
});

test("an approved broker permission check covers exactly that check: same server, permission and value", () => {
  const env: Action = {
    type: "mcp_permission_check",
    server: "files",
    permission: "env",
    value: "LANG",
  };
  const p = patternOf(env);
  assert.equal(describeAllowancePattern(p), "mcp-perm://files:env/LANG");
  assert.ok(matchesAllowancePattern(p, env));
  for (
    const other of [
      { ...env, value: "HOME" },
      { ...env, server: "other" },
      { ...env, permission: "read" as const },
      { ...env, value: null },
    ]
  ) {
    assert.ok(!matchesAllowancePattern(p, other), JSON.stringify(other));
  }
  // The stored form parses back to the same pattern.
  assert.deepEqual(parseAllowancePattern(JSON.parse(JSON.stringify(p))), p);
});

test("a broker check of everything, or of run/ffi/sys, is never approved for reuse", () => {
  for (
    const a of [
      { permission: "env" as const, value: null },
      { permission: "run" as const, value: "/bin/sh" },
      { permission: "ffi" as const, value: "/lib/x.so" },
      { permission: "sys" as const, value: "hostname" },
    ]
  ) {
    assert.equal(
      allowancePatternFor({ type: "mcp_permission_check", server: "s", ...a }),
      null,
      JSON.stringify(a),
    );
  }
  assert.throws(
    () =>
      parseAllowancePattern({
        type: "mcp_permission",
        server: "s",
        permission: "run",
        value: "/bin/sh",
      }),
    (e: unknown) => KernelError.is(e),
  );
});
