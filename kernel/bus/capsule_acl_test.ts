import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { CapsuleAcl } from "./capsule_acl.ts";
import { compileTopicPattern } from "./topic.ts";

Deno.test({
  name:
    "`CapsuleAcl.checkPublish()` allows a topic an ipc_publish pattern matches",
  permissions: "none",
  fn() {
    const acl = new CapsuleAcl({
      publish: ["tool.v1.execute.*.result", "agent.v1.response"],
      subscribe: [],
    });
    assert.deepEqual(acl.checkPublish("tool.v1.execute.read_file.result"), {
      ok: true,
    });
    assert.deepEqual(acl.checkPublish("agent.v1.response"), { ok: true });
    // Cached path gives the same answer.
    assert.deepEqual(acl.checkPublish("agent.v1.response"), { ok: true });
  },
});

Deno.test({
  name:
    "`CapsuleAcl.checkPublish()` denies a topic no pattern matches and names the grants",
  permissions: "none",
  fn() {
    const acl = new CapsuleAcl({
      publish: ["tool.v1.execute.*.result"],
      subscribe: [],
    });
    assert.deepEqual(acl.checkPublish("tool.v1.execute.read_file"), {
      ok: false,
      reason:
        "no ipc_publish pattern matches it (granted: tool.v1.execute.*.result)",
    });
  },
});

Deno.test({
  name: "`CapsuleAcl` with empty lists may neither publish nor subscribe",
  permissions: "none",
  fn() {
    const acl = new CapsuleAcl({ publish: [], subscribe: [] });
    assert.deepEqual(acl.checkPublish("a.b"), {
      ok: false,
      reason: "its manifest grants no ipc_publish patterns",
    });
    assert.deepEqual(acl.checkSubscribe(compileTopicPattern("a.b")), {
      ok: false,
      reason: "its manifest grants no ipc_subscribe patterns",
    });
  },
});

Deno.test({
  name:
    "`CapsuleAcl.checkPublish()` never grants the kernel's astrid.* topics, even with `**`",
  permissions: "none",
  fn() {
    const acl = new CapsuleAcl({
      publish: ["**", "astrid.**", "astrid.v1.approval.response.*"],
      subscribe: [],
    });
    for (
      const t of [
        "astrid.v1.approval.response.r1",
        "astrid.v1.capsules_loaded",
        "astrid",
      ]
    ) {
      const v = acl.checkPublish(t);
      assert.equal(v.ok, false, t);
      assert.match((v as { reason: string }).reason, /kernel only/);
    }
    assert.ok(acl.checkPublish("astridx.v1.a").ok);
  },
});

Deno.test({
  name:
    "`CapsuleAcl.checkSubscribe()` allows covered patterns and refuses wider ones",
  permissions: "none",
  fn() {
    const acl = new CapsuleAcl({
      publish: [],
      subscribe: ["llm.v1.stream.*", "session.v1.**"],
    });
    assert.ok(
      acl.checkSubscribe(compileTopicPattern("llm.v1.stream.openai")).ok,
    );
    assert.ok(acl.checkSubscribe(compileTopicPattern("llm.v1.stream.*")).ok);
    assert.ok(
      acl.checkSubscribe(compileTopicPattern("session.v1.response.*")).ok,
    );
    assert.ok(!acl.checkSubscribe(compileTopicPattern("llm.v1.stream.**")).ok);
    assert.ok(!acl.checkSubscribe(compileTopicPattern("llm.v1.*")).ok);
    assert.ok(!acl.checkSubscribe(compileTopicPattern("**")).ok);
  },
});

Deno.test({
  name:
    "`CapsuleAcl` rejects a malformed ACL pattern and a malformed topic with BUS_TOPIC_INVALID",
  permissions: "none",
  fn() {
    assert.throws(
      () => new CapsuleAcl({ publish: ["a..b"], subscribe: [] }),
      (e) => KernelError.is(e, "BUS_TOPIC_INVALID"),
    );
    assert.throws(
      () => new CapsuleAcl({ publish: [], subscribe: ["a.**.b"] }),
      (e) => KernelError.is(e, "BUS_TOPIC_INVALID"),
    );
    const acl = new CapsuleAcl({ publish: ["**"], subscribe: [] });
    assert.throws(
      () => acl.checkPublish("a..b"),
      (e) => KernelError.is(e, "BUS_TOPIC_INVALID"),
    );
  },
});
