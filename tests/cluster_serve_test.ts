/**
 * Real headless servers (`deno serve kernel/serve.ts`) joining the cluster's
 * events on a private nats-server: each node creates its durable consumer
 * and announces itself with a signed event; a signed approval request of
 * another node shows in a node's `GET /v1/approvals`, and answering it there
 * sends the answer to that node; forged requests never show; a node refuses
 * to start without a node id, with credentials in the URL, or when NATS is
 * unreachable.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { ApiClient } from "../mod.ts";
import type { ApprovalInfo } from "../kernel/api/contract.ts";
import { generateKeyPair } from "../kernel/crypto/key_pair.ts";
import { saveKeyFile } from "../kernel/crypto/key_file.ts";
import { createDenoFs, cryptoRandom } from "../kernel/host/mod.ts";
import type { PrincipalId } from "../kernel/core/ids.ts";
import { encodeEvent } from "../kernel/cluster/nats/wire.ts";
import { natsHealth } from "../kernel/cluster/nats/health.ts";
import {
  freePort,
  spawnServe,
  type TempHome,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";
import { natsTest, startNats } from "./nats_fixture_test.ts";

const TOKEN = "cluster-serve-token-0123456789abcdefghijklmnop";
const SESSION = "6f1d7c1e-93a4-4f5e-8a57-2b1f0c9d4e02";

async function startNode(h: TempHome, env: Record<string, string>) {
  const port = freePort();
  const child = spawnServe(h, port, { ASTRID_SERVE_TOKEN: TOKEN, ...env });
  const output = child.output();
  const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` }, TOKEN);
  try {
    await waitUntil(
      async () => {
        try {
          await client.call("status");
          return true;
        } catch {
          return false;
        }
      },
      "the server answers",
      60_000,
    );
  } catch (err) {
    child.kill("SIGKILL");
    const out = await output;
    throw new Error(
      `${err}: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
    );
  }
  return {
    client,
    async stop() {
      client[Symbol.dispose]();
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await output;
    },
  };
}

natsTest(
  "headless servers join the cluster's events: approvals of another node are listed and answered through the API, forged ones never show",
  async () => {
    await using nats = await startNats();
    await using ha = await tempHome();
    await using hb = await tempHome();
    // One runtime key for the cluster: keys/ copied to every node.
    const key = generateKeyPair(cryptoRandom());
    for (const h of [ha, hb]) {
      await Deno.mkdir(path.join(h.home, "keys"), {
        recursive: true,
        mode: 0o700,
      });
      await saveKeyFile(path.join(h.home, "keys", "runtime.key"), key, {
        fs: createDenoFs(),
        random: cryptoRandom(),
      });
    }
    const nc = await connect({ servers: nats.url });
    const wire: { subject: string; body: Record<string, unknown> }[] = [];
    nc.subscribe("astrid.ev.>", {
      callback: (_e, m) =>
        void wire.push({ subject: m.subject, body: m.json() }),
    });
    const a = await startNode(ha, {
      ASTRID_NATS_URL: nats.url,
      ASTRID_NODE_ID: "serve-a",
    });
    const b = await startNode(hb, {
      ASTRID_NATS_URL: nats.url,
      ASTRID_NODE_ID: "serve-b",
    });
    try {
      // Both joined: a durable consumer each, a signed node_start each.
      const health = await natsHealth(nats.url);
      assert.equal(health.events_consumers, 2);
      await waitUntil(
        () =>
          ["serve-a", "serve-b"].every((n) =>
            wire.some((w) =>
              w.subject === `astrid.ev.${n}.astrid.v1.lifecycle.node_start` &&
              w.body["origin"] === n && typeof w.body["sig"] === "string"
            )
          ),
        "node_start of both nodes",
      );
      const js = jetstream(nc);
      const info = {
        request_id: "approval:r-77",
        kind: "pending",
        session: SESSION,
        action: "fs_write",
        resource: "/w/notes.txt",
        risk: "high",
        summary: "write /w/notes.txt",
        options: ["allow_once", "deny"],
        created_at: Date.now(),
      };
      const event = {
        id: "serve-a:t-1",
        origin: "serve-a",
        topic: "astrid.v1.approval",
        principal: "default" as PrincipalId,
        session: SESSION as never,
        payload: info,
        sent_at: Date.now(),
      };
      // Forged: signed by another key -> never listed.
      await js.publish(
        "astrid.ev.serve-a.astrid.v1.approval",
        await encodeEvent(
          {
            ...event,
            id: "serve-a:t-0",
            payload: { ...info, request_id: "approval:forged" },
          },
          generateKeyPair(cryptoRandom()),
        ),
      );
      // Genuine: signed with the cluster's key, as node A would.
      await js.publish(
        "astrid.ev.serve-a.astrid.v1.approval",
        await encodeEvent(event, key),
      );
      let listed: ApprovalInfo[] = [];
      await waitUntil(async () => {
        listed = await b.client.call<ApprovalInfo[]>("approvalsList");
        return listed.length > 0;
      }, "B lists A's request");
      assert.deepEqual(listed.map((l) => l.request_id), ["approval:r-77"]);
      // An answer outside the offered options is refused on B already.
      await assert.rejects(
        b.client.call("approvalsAnswer", {
          params: { id: "approval:r-77" },
          body: { decision: "allow_always" },
        }),
        (e: unknown) => (e as { code?: string }).code === "INVALID_INPUT",
      );
      await b.client.call("approvalsAnswer", {
        params: { id: "approval:r-77" },
        body: {
          decision: "allow_once",
          reason: "looks fine",
          // As the web console relays a person's answer.
          on_behalf_of: { via: "web", address: "192.0.2.7" },
        },
      });
      await waitUntil(
        () =>
          wire.some((w) =>
            w.subject ===
              "astrid.ev.serve-b.astrid.v1.approval.response.approval:r-77"
          ),
        "B's answer on the wire",
      );
      const sent = wire.find((w) =>
        w.subject ===
          "astrid.ev.serve-b.astrid.v1.approval.response.approval:r-77"
      )!;
      assert.deepEqual(sent.body["payload"], {
        kind: "answer",
        to: "serve-a",
        decision: "allow_once",
        reason: "looks fine",
        via: "web",
        address: "192.0.2.7",
      });
      assert.deepEqual(await b.client.call("approvalsList"), []);
      // A holds no such request: it ignores the answer, nothing breaks.
      assert.deepEqual(await a.client.call("approvalsList"), []);
    } finally {
      await a.stop();
      await b.stop();
      await nc.close();
    }
  },
);

natsTest(
  "a headless server with [cluster] nats_url refuses to start with a node id NATS cannot name, with credentials in the URL, or when NATS is unreachable",
  async () => {
    await using h = await tempHome();
    const cases: [Record<string, string>, RegExp][] = [
      [
        // A '.' separates NATS subject tokens: it would split the node's
        // subjects and consumer name.
        { ASTRID_NATS_URL: "nats://127.0.0.1:4222", ASTRID_NODE_ID: "a.b" },
        /CONFIG_INVALID.*cluster\.node_id/,
      ],
      [
        {
          ASTRID_NATS_URL: "nats://u:hunter2@127.0.0.1:4222",
          ASTRID_NODE_ID: "n1",
        },
        /CONFIG_INVALID.*cluster\.nats_url/,
      ],
      [
        {
          ASTRID_NATS_URL: `nats://127.0.0.1:${freePort()}`,
          ASTRID_NODE_ID: "n1",
        },
        /CLUSTER_UNAVAILABLE/,
      ],
    ];
    for (const [env, expected] of cases) {
      const out = await spawnServe(h, freePort(), {
        ASTRID_SERVE_TOKEN: TOKEN,
        ...env,
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.notEqual(out.code, 0);
      assert.match(stderr, expected);
      assert.ok(!stderr.includes("hunter2"));
    }
  },
);
