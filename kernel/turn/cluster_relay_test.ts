import assert from "node:assert/strict";
import { Bus } from "../bus/bus.ts";
import type { BusEnvelope } from "../bus/envelope.ts";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import type { JsonValue } from "../store/store.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { MemoryLogger } from "../testing/memory_logger.ts";
import { SeededRandom } from "../testing/seeded_random.ts";
import type { ApprovalAnswerBody, ApprovalInfo } from "../api/contract.ts";
import type { ApiCaller } from "../api/session_hub.ts";
import { ClusterRelay, HEARTBEAT_MS, SILENT_MS } from "./cluster_relay.ts";

const principal = "default" as PrincipalId;
const SESSION = "6f1d7c1e-93a4-4f5e-8a57-2b1f0c9d4e03" as SessionId;

function info(id: string, createdAt: number): ApprovalInfo {
  return {
    request_id: id,
    kind: "pending",
    session: SESSION,
    action: "fs_write",
    resource: "/w/a",
    risk: "high",
    summary: "write /w/a",
    options: ["allow_once", "deny"],
    created_at: createdAt,
  };
}

function setup() {
  const clock = new FakeClock(1_000_000);
  const bus = new Bus({
    clock,
    random: new SeededRandom(3),
    logger: new MemoryLogger(),
  });
  const sent: BusEnvelope[] = [];
  bus.subscribe("kernel", {
    pattern: "astrid.**",
    handler: (e) => void (e.origin === undefined && sent.push(e)),
  });
  const answered: [string, ApprovalAnswerBody, ApiCaller][] = [];
  const relay = new ClusterRelay(bus, {
    principal,
    clock,
    logger: new MemoryLogger(),
    answerLocal: (id, body, caller) => {
      answered.push([id, body, caller]);
      return Promise.resolve(true);
    },
  });
  /** A message as the bridge delivers one from another node. */
  const fromNode = async (
    origin: string,
    topic: string,
    payload: JsonValue,
  ) => {
    await bus.publish("kernel", {
      topic,
      payload,
      principal,
      session: SESSION,
      origin,
    });
    await bus.whenIdle();
  };
  return { clock, bus, relay, answered, sent, fromNode };
}

Deno.test("`ClusterRelay` lists another node's request until it is settled or its node restarts", async () => {
  const { clock, relay, fromNode } = setup();
  const r1 = info("approval:r1", clock.now());
  await fromNode("n2", "astrid.v1.approval", r1 as unknown as JsonValue);
  assert.deepEqual(relay.remoteApprovals(), [r1]);
  assert.deepEqual(relay.remoteApprovals("other-session"), []);
  await fromNode("n2", "astrid.v1.approval.response.approval:r1", {
    kind: "settled",
    decision: "deny",
  });
  assert.deepEqual(relay.remoteApprovals(), []);
  await fromNode("n2", "astrid.v1.approval", r1 as unknown as JsonValue);
  await fromNode("n2", "astrid.v1.lifecycle.node_start", {});
  assert.deepEqual(relay.remoteApprovals(), []);
  relay.close();
});

Deno.test("`ClusterRelay` stops listing the requests of a node silent for SILENT_MS; its heartbeats keep them listed", async () => {
  const { clock, relay, fromNode } = setup();
  await fromNode(
    "n2",
    "astrid.v1.approval",
    info("approval:a", clock.now()) as never,
  );
  await fromNode(
    "n3",
    "astrid.v1.approval",
    info("approval:b", clock.now()) as never,
  );
  await clock.advance(SILENT_MS - 1_000);
  await fromNode("n2", "astrid.v1.lifecycle.node_alive", { at: clock.now() });
  await clock.advance(2_000);
  assert.deepEqual(relay.remoteApprovals().map((r) => r.request_id), [
    "approval:a",
  ]);
  // A heartbeat claiming the future counts as now, not later.
  await fromNode("n2", "astrid.v1.lifecycle.node_alive", {
    at: clock.now() + 10 * SILENT_MS,
  });
  await clock.advance(SILENT_MS + 1);
  assert.deepEqual(relay.remoteApprovals(), []);
  relay.close();
});

Deno.test("`ClusterRelay` says node_start once and node_alive every HEARTBEAT_MS, and sends no streamed text", async () => {
  const { clock, bus, relay, sent } = setup();
  await bus.whenIdle();
  await clock.advance(HEARTBEAT_MS);
  await clock.advance(HEARTBEAT_MS);
  relay.event(SESSION, { type: "text_delta", text: "tok" } as never);
  relay.event(SESSION, { type: "final", text: "done" } as never);
  await bus.whenIdle();
  assert.deepEqual(sent.map((e) => e.topic), [
    "astrid.v1.lifecycle.node_start",
    "astrid.v1.lifecycle.node_alive",
    "astrid.v1.lifecycle.node_alive",
    `astrid.v1.session.${SESSION}.event`,
  ]);
  relay.close();
  await clock.advance(HEARTBEAT_MS);
  await bus.whenIdle();
  assert.equal(sent.length, 4, "no heartbeat after close");
});

Deno.test("`ClusterRelay` forwards an answer with the person's client to the holding node, and applies one from another node as `via: cluster`", async () => {
  const { clock, bus, relay, answered, sent, fromNode } = setup();
  assert.equal(
    relay.forward("approval:none", { decision: "deny" }, { via: "serve" }),
    undefined,
  );
  await fromNode(
    "n2",
    "astrid.v1.approval",
    info("approval:f", clock.now()) as never,
  );
  const fwd = relay.forward("approval:f", { decision: "allow_once" }, {
    via: "serve",
    address: "10.0.0.1",
    on_behalf_of: { via: "web", address: "192.0.2.1" },
  });
  assert.equal(fwd?.request_id, "approval:f");
  await bus.whenIdle();
  assert.deepEqual(sent.at(-1)?.payload, {
    kind: "answer",
    to: "n2",
    decision: "allow_once",
    via: "web",
    address: "192.0.2.1",
  });
  assert.deepEqual(relay.remoteApprovals(), []);
  await fromNode("n3", "astrid.v1.approval.response.approval:mine", {
    kind: "answer",
    decision: "deny",
    reason: "no",
    via: "socket",
  });
  assert.deepEqual(answered, [[
    "approval:mine",
    { decision: "deny", reason: "no" },
    { via: "cluster", address: "n3", on_behalf_of: { via: "socket" } },
  ]]);
  // The same message published on this node (no origin) is not an answer
  // from another node: ignored.
  await bus.publish("kernel", {
    topic: "astrid.v1.approval.response.approval:mine",
    payload: { kind: "answer", decision: "allow_once" },
    principal,
    session: SESSION,
  });
  await bus.whenIdle();
  assert.equal(answered.length, 1);
  relay.close();
});

Deno.test("`ClusterRelay` never takes a capsule's message for another node's (origin is kept on kernel messages only)", async () => {
  const { bus, relay, answered } = setup();
  bus.registerCapsule("spy" as CapsuleId, {
    publish: ["**"],
    subscribe: [],
  });
  await assert.rejects(
    bus.publish("spy" as CapsuleId, {
      topic: "astrid.v1.approval.response.approval:x",
      payload: { kind: "answer", decision: "allow_once" },
      principal,
      session: SESSION,
      origin: "n2",
    }),
    { code: "BUS_ACL_DENIED" },
  );
  await bus.whenIdle();
  assert.deepEqual(answered, []);
  assert.deepEqual(relay.remoteApprovals(), []);
  relay.close();
});
