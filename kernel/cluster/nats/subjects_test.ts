import assert from "node:assert/strict";
import {
  CLUSTER_TOPIC_PATTERNS,
  isClusterTopic,
  isNodeId,
  parseSubject,
  subjectOf,
} from "./subjects.ts";
import {
  approvalResponseTopic,
  KERNEL_TOPICS,
  lifecycleTopic,
  sessionDeltaTopic,
  sessionEventTopic,
} from "../../../sdk/topics.ts";
import { CapsuleAcl } from "../../bus/capsule_acl.ts";

Deno.test("approvals, their answers, lifecycle and session events cross nodes; the rest stays on its node", () => {
  for (
    const t of [
      KERNEL_TOPICS.approval,
      approvalResponseTopic("r1"),
      lifecycleTopic("kernel_start"),
      sessionEventTopic("s1"),
    ]
  ) assert.ok(isClusterTopic(t), t);
  for (
    const t of [
      sessionDeltaTopic("s1"),
      KERNEL_TOPICS.elicit,
      "astrid.v1.elicit.response.e1",
      KERNEL_TOPICS.watchdogTick,
      KERNEL_TOPICS.capsulesLoaded,
      KERNEL_TOPICS.healthFailed,
      KERNEL_TOPICS.onboardingRequired,
      KERNEL_TOPICS.clientConnected,
      KERNEL_TOPICS.toolCancel,
      "agent.v1.turn_event",
      "user.v1.prompt",
    ]
  ) assert.ok(!isClusterTopic(t), t);
});

Deno.test("every cluster topic lies in the kernel's reserved domain, which no capsule ACL can grant", () => {
  const acl = new CapsuleAcl({ publish: ["**"], subscribe: [] });
  for (const p of CLUSTER_TOPIC_PATTERNS) {
    assert.ok(p.startsWith("astrid."), p);
    const concrete = p.replaceAll("*", "x");
    assert.equal(acl.checkPublish(concrete).ok, false, concrete);
  }
});

Deno.test("`subjectOf()` puts the origin in the subject and `parseSubject()` takes it back", () => {
  const s = subjectOf("node-a", "astrid.v1.approval");
  assert.equal(s, "astrid.ev.node-a.astrid.v1.approval");
  assert.deepEqual(parseSubject(s), {
    origin: "node-a",
    topic: "astrid.v1.approval",
  });
  for (
    const bad of [
      "astrid.ev.node-a",
      "x.ev.a.b",
      "astrid.ev.*.a.b",
      "astrid.ev.>.a",
    ]
  ) {
    assert.equal(parseSubject(bad), undefined, bad);
  }
  for (const bad of ["", "a.b", "*", ">", "a b", "x".repeat(65)]) {
    assert.equal(isNodeId(bad), false, bad);
    assert.throws(() => subjectOf(bad, "astrid.v1.approval"), RangeError);
  }
});
