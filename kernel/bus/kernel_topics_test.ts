import assert from "node:assert/strict";
import {
  approvalResponseTopic,
  elicitResponseTopic,
  KERNEL_TOPICS,
  lifecycleTopic,
} from "../../sdk/topics.ts";
import { CapsuleAcl } from "./capsule_acl.ts";
import { compileTopicPattern, validateTopic } from "./topic.ts";

Deno.test({
  name:
    "`KERNEL_TOPICS` are valid bus patterns and the helpers build topics those patterns match",
  permissions: "none",
  fn() {
    for (const t of Object.values(KERNEL_TOPICS)) compileTopicPattern(t);
    assert.ok(
      compileTopicPattern(KERNEL_TOPICS.approvalResponses).matches(
        approvalResponseTopic("r-1"),
      ),
    );
    assert.ok(
      compileTopicPattern(KERNEL_TOPICS.elicitResponses).matches(
        elicitResponseTopic("e:1"),
      ),
    );
    assert.ok(
      compileTopicPattern(KERNEL_TOPICS.lifecycle).matches(
        lifecycleTopic("kernel_shutdown"),
      ),
    );
    validateTopic(approvalResponseTopic("a".repeat(128)));
  },
});

Deno.test({
  name:
    "`approvalResponseTopic()` refuses ids that would change the topic's shape (injection)",
  permissions: "none",
  fn() {
    for (const bad of ["", "a.b", "*", "**", "a b", "../x", "a".repeat(129)]) {
      assert.throws(() => approvalResponseTopic(bad), RangeError, bad);
      assert.throws(() => elicitResponseTopic(bad), RangeError, bad);
      assert.throws(() => lifecycleTopic(bad), RangeError, bad);
    }
  },
});

Deno.test({
  name: "`KERNEL_TOPICS` under astrid.* cannot be published by any capsule",
  permissions: "none",
  fn() {
    const acl = new CapsuleAcl({ publish: ["**"], subscribe: [] });
    for (
      const t of [
        KERNEL_TOPICS.capsulesLoaded,
        KERNEL_TOPICS.approval,
        approvalResponseTopic("x"),
        elicitResponseTopic("y"),
        lifecycleTopic("kernel_start"),
      ]
    ) assert.equal(acl.checkPublish(t).ok, false, t);
    assert.equal(acl.checkPublish(KERNEL_TOPICS.toolCancel).ok, true);
  },
});
