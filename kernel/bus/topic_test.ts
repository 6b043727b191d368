import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import { compileTopicPattern, validateTopic } from "./topic.ts";

function invalid(fn: () => unknown, why: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(KernelError.is(e, "BUS_TOPIC_INVALID"), String(e));
    assert.match(e.message, why);
    return true;
  });
}

Deno.test({
  name: "`validateTopic()` accepts dot-separated segments of [A-Za-z0-9_:-]",
  permissions: "none",
  fn() {
    for (
      const t of [
        "a",
        "llm.v1.stream.openai",
        "tool.v1.execute.mcp:read_file.result",
        "session.v1.response.get_messages.6f1b2c3d-4e5f",
        "a.b.c.d.e.f.g.h",
      ]
    ) assert.equal(validateTopic(t), t);
  },
});

Deno.test({
  name: "`validateTopic()` rejects empty segments wherever they are",
  permissions: "none",
  fn() {
    invalid(() => validateTopic(""), /empty/);
    invalid(() => validateTopic(".a"), /empty segment/);
    invalid(() => validateTopic("a."), /empty segment/);
    invalid(() => validateTopic("a..b"), /segment 2 is an empty segment/);
  },
});

Deno.test({
  name: "`validateTopic()` rejects wildcards, bad characters, non-strings",
  permissions: "none",
  fn() {
    invalid(() => validateTopic("a.*"), /cannot contain wildcards/);
    invalid(() => validateTopic("a.**"), /cannot contain wildcards/);
    invalid(() => validateTopic("a.b c"), /outside \[A-Za-z0-9_:-\]/);
    invalid(() => validateTopic("a/b"), /outside/);
    invalid(() => validateTopic("a.bé"), /outside/);
    invalid(() => validateTopic("a.b\0"), /outside/);
    invalid(() => validateTopic(42), /expected a string/);
  },
});

Deno.test({
  name: "`validateTopic()` rejects more than 8 segments or 256 characters",
  permissions: "none",
  fn() {
    invalid(() => validateTopic("a.b.c.d.e.f.g.h.i"), /9 segments/);
    invalid(() => validateTopic("x".repeat(257)), /257 characters/);
    assert.equal(validateTopic("x".repeat(256)).length, 256);
  },
});

Deno.test({
  name: "`compileTopicPattern()` `*` matches exactly one segment, anywhere",
  permissions: "none",
  fn() {
    const p = compileTopicPattern("tool.v1.execute.*.result");
    assert.ok(p.matches("tool.v1.execute.read_file.result"));
    assert.ok(!p.matches("tool.v1.execute.result"));
    assert.ok(!p.matches("tool.v1.execute.a.b.result"));
    const tail = compileTopicPattern("llm.v1.stream.*");
    assert.ok(tail.matches("llm.v1.stream.openai"));
    assert.ok(!tail.matches("llm.v1.stream"));
    assert.ok(!tail.matches("llm.v1.stream.openai.extra"));
  },
});

Deno.test({
  name: "`compileTopicPattern()` a trailing `**` matches one or more segments",
  permissions: "none",
  fn() {
    const p = compileTopicPattern("prompt_builder.v1.**");
    assert.ok(p.matches("prompt_builder.v1.assemble"));
    assert.ok(p.matches("prompt_builder.v1.hook_response.r-1"));
    assert.ok(!p.matches("prompt_builder.v1"));
    assert.ok(!p.matches("prompt_builder.v2.assemble"));
    assert.ok(compileTopicPattern("**").matches("anything.at.all"));
  },
});

Deno.test({
  name: "`compileTopicPattern()` a literal pattern matches only itself",
  permissions: "none",
  fn() {
    const p = compileTopicPattern("agent.v1.response");
    assert.ok(p.matches("agent.v1.response"));
    assert.ok(!p.matches("agent.v1.response.x"));
    assert.ok(!p.matches("agent.v1"));
  },
});

Deno.test({
  name:
    "`compileTopicPattern()` rejects partial, misplaced and triple wildcards",
  permissions: "none",
  fn() {
    invalid(() => compileTopicPattern("foo*.bar"), /mixes '\*'/);
    invalid(() => compileTopicPattern("a.b*c"), /mixes '\*'/);
    invalid(() => compileTopicPattern("a.**.b"), /only as the last/);
    invalid(() => compileTopicPattern("a.***"), /mixes '\*'/);
    invalid(() => compileTopicPattern("a..*"), /empty segment/);
    invalid(() => compileTopicPattern(""), /empty/);
  },
});

Deno.test({
  name:
    "`TopicPattern.covers()` an ACL `foo.*` covers `foo.bar` and `foo.*` but never `foo.**` or `foo`",
  permissions: "none",
  fn() {
    const acl = compileTopicPattern("foo.*");
    assert.ok(acl.covers(compileTopicPattern("foo.bar")));
    assert.ok(acl.covers(compileTopicPattern("foo.*")));
    assert.ok(!acl.covers(compileTopicPattern("foo.**")));
    assert.ok(!acl.covers(compileTopicPattern("foo")));
    assert.ok(!acl.covers(compileTopicPattern("*.bar")));
    assert.ok(!compileTopicPattern("foo.bar").covers(acl));
  },
});

Deno.test({
  name: "`TopicPattern.covers()` an ACL `foo.**` covers anything below foo",
  permissions: "none",
  fn() {
    const acl = compileTopicPattern("foo.**");
    for (const p of ["foo.a", "foo.*", "foo.a.**", "foo.**", "foo.*.b.*"]) {
      assert.ok(acl.covers(compileTopicPattern(p)), p);
    }
    for (const p of ["foo", "**", "*.a", "bar.**"]) {
      assert.ok(!acl.covers(compileTopicPattern(p)), p);
    }
  },
});

Deno.test({
  name:
    "`TopicPattern.covers()` never claims coverage `matches()` contradicts (randomised)",
  permissions: "none",
  fn() {
    const rnd = new SeededRandom(9);
    const pick = <T>(xs: readonly T[]): T => xs[rnd.bytes(1)[0]! % xs.length]!;
    const segs = ["a", "b", "*"];
    const pattern = (): string => {
      const n = 1 + (rnd.bytes(1)[0]! % 4);
      const parts = Array.from({ length: n }, () => pick(segs));
      if (rnd.bytes(1)[0]! % 3 === 0) parts.push("**");
      return parts.join(".");
    };
    const topics: string[] = [];
    for (const n of [1, 2, 3, 4, 5, 6]) {
      for (let i = 0; i < 20; i++) {
        topics.push(
          Array.from({ length: n }, () => pick(["a", "b", "c"])).join("."),
        );
      }
    }
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const outer = compileTopicPattern(pattern());
      const inner = compileTopicPattern(pattern());
      if (!outer.covers(inner)) continue;
      for (const t of topics) {
        if (inner.matches(t)) {
          checked++;
          assert.ok(
            outer.matches(t),
            `${outer.source} ⊇ ${inner.source} but not ${t}`,
          );
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} cases exercised`);
  },
});
