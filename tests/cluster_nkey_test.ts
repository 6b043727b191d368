/**
 * Per-node NATS users (docs/cluster.md, "Security"): with an `authorization`
 * block giving each node an NKey user that may publish only its own events
 * (`astrid.ev.<node>.>`) plus the JetStream API, the nodes' bridges work
 * with their seeds from `keys/nats.nkey`, and a node (or anyone holding its
 * seed) cannot publish as another node: the server refuses it, so even a
 * compromised node cannot speak for another.
 *
 * @module
 */
import assert from "node:assert/strict";
import { nkeys } from "@nats-io/transport-node";
import { Bus } from "../kernel/bus/bus.ts";
import type { PrincipalId } from "../kernel/core/ids.ts";
import {
  connectNats,
  type NatsAuth,
  readNatsAuth,
} from "../kernel/cluster/nats/connection.ts";
import { EventBridge } from "../kernel/cluster/nats/event_bridge.ts";
import { encodeEvent } from "../kernel/cluster/nats/wire.ts";
import { generateKeyPair, type KeyPair } from "../kernel/crypto/key_pair.ts";
import { createDenoFs, cryptoRandom, systemClock } from "../kernel/host/mod.ts";
import { MemoryEnv } from "../kernel/testing/memory_env.ts";
import { MemoryLogger } from "../kernel/testing/memory_logger.ts";
import type { BusEnvelope } from "../kernel/bus/envelope.ts";
import { natsTest, startNats } from "./nats_fixture_test.ts";

function nodeUser(publicKey: string, node: string): string {
  return `{
      nkey: ${publicKey}
      permissions: {
        publish: { allow: [
          "astrid.ev.${node}.>", "$JS.ACK.ASTRID_EVENTS.node_${node}.>", "_INBOX.>",
          "$JS.API.INFO", "$JS.API.STREAM.INFO.ASTRID_EVENTS",
          "$JS.API.STREAM.CREATE.ASTRID_EVENTS",
          "$JS.API.CONSUMER.*.ASTRID_EVENTS.node_${node}",
          "$JS.API.CONSUMER.*.ASTRID_EVENTS.node_${node}.>",
          "$JS.API.CONSUMER.MSG.NEXT.ASTRID_EVENTS.node_${node}"
        ] }
        subscribe: { allow: ["_INBOX.>"] }
      }
    }`;
}

async function join(
  url: string,
  nodeId: string,
  auth: NatsAuth,
  key: KeyPair,
) {
  const logger = new MemoryLogger();
  const clock = systemClock();
  const bus = new Bus({ clock, random: cryptoRandom(), logger });
  const nc = await connectNats({ url, auth, name: nodeId });
  // Every permission the bridge lacks would show here (acks included).
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error") errors.push(String(s.error));
    }
  })();
  const bridge = await EventBridge.start({
    bus,
    nc,
    nodeId,
    key,
    logger,
    clock,
  });
  const seen: BusEnvelope[] = [];
  bus.subscribe("kernel", {
    pattern: "astrid.**",
    handler: (e) => void seen.push(e),
  });
  return {
    bus,
    nc,
    seen,
    errors,
    async [Symbol.asyncDispose]() {
      await bridge.close();
      await nc.close();
      bus.close();
    },
  };
}

natsTest(
  "with one NKey user per node, each node's bridge works and no node can publish as another",
  async () => {
    const ua = nkeys.createUser();
    const ub = nkeys.createUser();
    await using nats = await startNats({
      config: `authorization {
  users = [
    ${nodeUser(ua.getPublicKey(), "nk-a")}
    ${nodeUser(ub.getPublicKey(), "nk-b")}
  ]
}
`,
    });
    const home = await Deno.makeTempDir();
    try {
      // The seed is read from keys/nats.nkey, as a node does.
      await Deno.mkdir(`${home}/keys`, { mode: 0o700 });
      await Deno.writeTextFile(
        `${home}/keys/nats.nkey`,
        new TextDecoder().decode(ua.getSeed()) + "\n",
      );
      const authA = await readNatsAuth({
        env: new MemoryEnv(),
        fs: createDenoFs(),
        home,
      });
      assert.ok(authA && "nkeySeed" in authA);
      const authB = {
        nkeySeed: new TextDecoder().decode(ub.getSeed()),
      };
      const key = generateKeyPair(cryptoRandom());
      await using a = await join(nats.url, "nk-a", authA, key);
      await using b = await join(nats.url, "nk-b", authB, key);
      const ctx = { principal: "default" as PrincipalId, session: null };
      await a.bus.publish("kernel", {
        topic: "astrid.v1.lifecycle.hello_from_a",
        payload: {},
        ...ctx,
      });
      for (let i = 0; i < 200 && b.seen.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.deepEqual(
        b.seen.map((e) => [e.topic, e.origin]),
        [["astrid.v1.lifecycle.hello_from_a", "nk-a"]],
      );
      // Node A's user, even with the cluster's key, cannot publish as B:
      // the server refuses the subject; nothing reaches A as B's event.
      const forged = await encodeEvent({
        id: "nk-b:forged",
        origin: "nk-b",
        topic: "astrid.v1.lifecycle.forged",
        principal: "default" as PrincipalId,
        session: null,
        payload: {},
        sent_at: Date.now(),
      }, key);
      const errors: string[] = [];
      const raw = await connectNats({ url: nats.url, auth: authA });
      (async () => {
        for await (const s of raw.status()) {
          if (s.type === "error") errors.push(String(s.error));
        }
      })();
      raw.publish("astrid.ev.nk-b.astrid.v1.lifecycle.forged", forged);
      await raw.flush();
      for (let i = 0; i < 100 && errors.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.match(errors.join(), /permissions violation/i);
      // A marker from B arrives at A; the forged one was never there.
      await b.bus.publish("kernel", {
        topic: "astrid.v1.lifecycle.marker",
        payload: {},
        ...ctx,
      });
      for (
        let i = 0;
        i < 200 && !a.seen.some((e) => e.topic.endsWith("marker"));
        i++
      ) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(
        a.seen.filter((e) => e.origin !== undefined).map((e) => e.topic),
        ["astrid.v1.lifecycle.marker"],
      );
      await raw.close();
      // The narrow permissions above are all the bridges needed.
      assert.deepEqual([...a.errors, ...b.errors], []);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
);
