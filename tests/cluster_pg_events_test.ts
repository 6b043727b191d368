/**
 * Two nodes as the cluster plan defines them — one PostgreSQL store, NATS
 * between them (a private server of each per file) — each with its session
 * hub and API in this process: a client of node B follows a session that
 * runs on node A through B's own `GET /v1/sessions/:id/events` (the session
 * is found in the shared store; its events come over NATS), sees the turn's
 * approval request, answers it through B's API, and the turn on A ends with
 * that decision.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { PromptStreamEvent } from "../kernel/api/contract.ts";
import { generateKeyPair } from "../kernel/crypto/key_pair.ts";
import { cryptoRandom } from "../kernel/host/mod.ts";
import { sseEvents } from "../sdk/stream.ts";
import { newSession, PROBE, startApi } from "./api_fixture_test.ts";
import {
  joinBridgedNode,
  natsMissing,
  startNats,
} from "./nats_fixture_test.ts";
import { needsTest } from "./needs_fixture_test.ts";
import { pgMissing, startPg } from "./pg_fixture_test.ts";

/** Skipped with a message without PostgreSQL or nats-server; failing under CI=true. */
function pgNatsTest(name: string, fn: () => Promise<void>): void {
  needsTest("cluster tests", pgMissing() ?? natsMissing(), name, fn);
}

pgNatsTest(
  "on one PostgreSQL store, node B's API streams the events of a session running on node A and answers its approval",
  async () => {
    await using pg = await startPg();
    await using nats = await startNats();
    const key = generateKeyPair(cryptoRandom());
    await using nodeA = await joinBridgedNode(nats.url, "pg-a", key);
    await using nodeB = await joinBridgedNode(nats.url, "pg-b", key);
    const kernelEnv = {
      ASTRID_STORE_URL: pg.url,
      ASTRID_STORE_PASSWORD: pg.password,
    };
    await using a = await startApi({
      prefix: "cl-pg-a-",
      capsules: [PROBE],
      cluster: { bus: nodeA.bus },
      kernelEnv,
    });
    await using b = await startApi({
      prefix: "cl-pg-b-",
      capsules: [],
      cluster: { bus: nodeB.bus },
      kernelEnv,
    });
    const onA = a.client();
    const onB = b.client("10.0.0.11");
    const s = await newSession(onA, a.tk.workspace);
    // B knows the session from the shared store and streams its events.
    const subscribed = await onB.raw("sessionEvents", { params: { id: s.id } });
    assert.equal(subscribed.status, 200);
    const followed: PromptStreamEvent[] = [];
    const following = (async () => {
      for await (const e of sseEvents(subscribed.body!)) {
        const event = JSON.parse(e.data) as PromptStreamEvent;
        followed.push(event);
        if (event.type === "approval_required") {
          await onB.call("approvalsAnswer", {
            params: { id: event.request_id },
            body: { decision: "allow_once" },
          });
        }
        if (event.type === "final") break;
      }
    })();
    const events: PromptStreamEvent[] = [];
    for await (
      const e of onA.stream<PromptStreamEvent>("sessionPrompt", {
        params: { id: s.id },
        body: { text: "approve" },
      })
    ) events.push(e);
    await following;
    assert.equal(
      (events.at(-1) as { text?: string }).text,
      "decision=allow_once",
    );
    const types = followed.map((e) => e.type);
    assert.ok(types.includes("approval_required"), types.join());
    assert.ok(types.includes("approval_decision"), types.join());
    assert.equal(types.at(-1), "final");
    assert.ok(!types.includes("text_delta"), "streamed text stays on A");
  },
);
