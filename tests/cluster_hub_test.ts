/**
 * The session API across two nodes (issue 17, part 3): two kernels, each
 * with its session hub and API, whose kernel buses are bridged through a
 * real nats-server (one per file). An approval a turn on node A asks for is
 * listed by node B's API, answered there, and resolves the turn on A; B's
 * events stream of A's session carries the turn's events but not its
 * streamed text; the answer is audited on A with B as the caller.
 *
 * @module
 */
import assert from "node:assert/strict";
import type {
  ApprovalInfo,
  PromptStreamEvent,
} from "../kernel/api/contract.ts";
import { generateKeyPair } from "../kernel/crypto/key_pair.ts";
import { cryptoRandom } from "../kernel/host/mod.ts";
import {
  answerFirst,
  newSession,
  PROBE,
  startApi,
} from "./api_fixture_test.ts";
import { joinBridgedNode, natsTest, startNats } from "./nats_fixture_test.ts";

natsTest(
  "an approval asked by a turn on node A is listed and answered through node B's API, and B's events stream follows A's session",
  async () => {
    await using nats = await startNats();
    // One key for both bridges: the nodes of a cluster share keys/.
    const key = generateKeyPair(cryptoRandom());
    await using nodeA = await joinBridgedNode(nats.url, "hub-a", key);
    await using nodeB = await joinBridgedNode(nats.url, "hub-b", key);
    await using a = await startApi({
      prefix: "cl-hub-a-",
      capsules: [PROBE],
      cluster: { bus: nodeA.bus },
    });
    await using b = await startApi({
      prefix: "cl-hub-b-",
      capsules: [PROBE],
      cluster: { bus: nodeB.bus },
    });
    const onA = a.client();
    const onB = b.client("10.0.0.9");
    const s = await newSession(onA, a.tk.workspace);
    // B follows A's session (its store is not shared here, so through the
    // hub rather than the route, which first looks the session up).
    const follow = new AbortController();
    const followed: PromptStreamEvent[] = [];
    const following = (async () => {
      for await (const e of b.hub.events(s.id, follow.signal)) {
        followed.push(e);
        if (e.type === "final") break;
      }
    })();
    const events: PromptStreamEvent[] = [];
    const streaming = (async () => {
      for await (
        const e of onA.stream<PromptStreamEvent>("sessionPrompt", {
          params: { id: s.id },
          body: { text: "approve" },
        })
      ) events.push(e);
    })();
    const asked: ApprovalInfo = await answerFirst(onB, s.id, "allow_once");
    assert.equal(asked.session, s.id);
    assert.equal(asked.kind, "pending");
    await streaming;
    assert.equal(
      (events.at(-1) as { text?: string }).text,
      "decision=allow_once",
    );
    await following;
    follow.abort();
    const types = followed.map((e) => e.type);
    assert.ok(types.includes("approval_required"), types.join());
    assert.ok(types.includes("approval_decision"), types.join());
    assert.equal(types.at(-1), "final");
    assert.ok(!types.includes("text_delta"), "streamed text stays on A");
    // Settled everywhere: neither node lists it any more.
    for (let i = 0; i < 100; i++) {
      if ((await onB.call<ApprovalInfo[]>("approvalsList")).length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await onB.call("approvalsList"), []);
    assert.deepEqual(await onA.call("approvalsList"), []);
    // Audited on A, the node that applied it, with B as the caller and the
    // person's client behind it.
    await a.kernel.security.audit.flush();
    const entries: { action: Record<string, unknown>; proof: unknown }[] = [];
    for await (
      const line of a.kernel.security.audit.exportJsonl(a.kernel.principal)
    ) entries.push(JSON.parse(line));
    const answer = entries.find((e) => e.action["type"] === "approval_answer");
    assert.equal(answer?.action["request_id"], asked.request_id);
    assert.deepEqual(answer?.proof, {
      type: "api",
      via: "cluster",
      address: "hub-b",
      on_behalf_of: { via: "socket", address: "10.0.0.9" },
    });
  },
);
