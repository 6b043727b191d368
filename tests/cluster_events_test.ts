/**
 * Events across nodes on NATS JetStream (issue 17, part 3), with a real
 * nats-server (one per file) and each node a process of its own running a
 * kernel bus and the bridge (`tests/fixtures/cluster/event_node.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { natsTest, startNats } from "./nats_fixture_test.ts";
import { keyPairFromSeed } from "../kernel/crypto/key_pair.ts";
import { encodeEvent } from "../kernel/cluster/nats/wire.ts";
import type { PrincipalId } from "../kernel/core/ids.ts";
import { natsHealth } from "../kernel/cluster/nats/health.ts";

const NODE = new URL("./fixtures/cluster/event_node.ts", import.meta.url)
  .pathname;
const SEED = "11".repeat(32);
const SESSION = "6f1d7c1e-93a4-4f5e-8a57-2b1f0c9d4e01";

type Line = Record<string, unknown> & { ev: string; node: string };

/** A node process: send commands, wait for the lines it prints. */
class Node {
  readonly lines: Line[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiters = new Set<() => void>();
  readonly done: Promise<void>;

  constructor(readonly id: string, url: string, seed = SEED) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", NODE],
      env: { NATS_URL: url, NODE_ID: id, KEY_SEED: seed, NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.done = this.#read();
  }

  async #read(): Promise<void> {
    let buf = "";
    for await (
      const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      for (const w of this.#waiters) w();
    }
  }

  send(cmd: Record<string, unknown>): Promise<void> {
    return this.#stdin.write(
      new TextEncoder().encode(JSON.stringify(cmd) + "\n"),
    );
  }

  /** The first line (after `from`) that matches, within 15 s. */
  async waitFor(
    pred: (l: Line) => boolean,
    what: string,
    from = 0,
  ): Promise<Line> {
    const deadline = Date.now() + 15_000;
    while (true) {
      const hit = this.lines.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.id}: no ${what} within 15 s; saw ${
            JSON.stringify(this.lines).slice(-2000)
          }`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(done, 200);
        const w = () => done();
        function done() {
          clearTimeout(t);
          r();
        }
        this.#waiters.add(w);
      });
      this.#waiters.clear();
    }
  }

  seen(topic: string): Line[] {
    return this.lines.filter((l) => l.ev === "seen" && l["topic"] === topic);
  }

  async stats(): Promise<Line> {
    const from = this.lines.length;
    await this.send({ op: "stats" });
    return await this.waitFor((l) => l.ev === "stats", "stats", from);
  }

  /** Kills the process (no goodbye). */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child.status;
    await this.done.catch(() => {});
  }

  async exit(): Promise<void> {
    await this.send({ op: "exit" }).catch(() => {});
    await this.#child.status;
    await this.done.catch(() => {});
  }
}

async function startNode(id: string, url: string, seed?: string) {
  const node = new Node(id, url, seed);
  await node.waitFor((l) => l.ev === "ready", "ready");
  return node;
}

natsTest("events across nodes on NATS JetStream", async (t) => {
  await using nats = await startNats();
  const a = await startNode("node-a", nats.url);
  const b = await startNode("node-b", nats.url);
  try {
    await t.step(
      "an approval asked on node A shows on node B, and B's answer resolves the waiting request on A",
      async () => {
        await a.send({ op: "ask", id: "r-1", session: SESSION });
        const shown = await b.waitFor(
          (l) => l.ev === "seen" && l["topic"] === "astrid.v1.approval",
          "approval request",
        );
        assert.equal(shown["origin"], "node-a");
        assert.equal(shown["source"], "kernel");
        assert.equal(shown["session"], SESSION);
        assert.deepEqual(shown["payload"], {
          request_id: "r-1",
          action: "write",
          resource: "/w/a.txt",
        });
        await b.send({ op: "answer", id: "r-1", decision: "allow_once" });
        const answered = await a.waitFor(
          (l) => l.ev === "answered" && l["id"] === "r-1",
          "answer",
        );
        assert.deepEqual(answered["payload"], { decision: "allow_once" });
        assert.equal(answered["origin"], "node-b");
      },
    );

    await t.step(
      "a lifecycle and a session event reach the other node, and are not echoed back to their origin",
      async () => {
        await b.send({
          op: "publish",
          topic: "astrid.v1.lifecycle.session_start",
          payload: { session: SESSION },
        });
        await b.send({
          op: "publish",
          topic: `astrid.v1.session.${SESSION}.event`,
          payload: { type: "final", text: "done" },
          session: SESSION,
        });
        const ev = await a.waitFor(
          (l) =>
            l.ev === "seen" &&
            l["topic"] === `astrid.v1.session.${SESSION}.event`,
          "session event",
        );
        assert.equal(ev["origin"], "node-b");
        assert.deepEqual(ev["payload"], { type: "final", text: "done" });
        const life = a.seen("astrid.v1.lifecycle.session_start");
        assert.equal(life.length, 1);
        assert.equal(life[0]!["origin"], "node-b");
        // B's own frontend saw each exactly once, as local messages.
        const own = b.seen("astrid.v1.lifecycle.session_start");
        assert.deepEqual(own.map((l) => l["origin"]), [null]);
        const stats = await b.stats();
        assert.ok((stats["own"] as number) >= 2, JSON.stringify(stats));
      },
    );

    await t.step(
      "node-local topics stay on their node: streamed text, elicitation, capsule IPC",
      async () => {
        const from = b.lines.length;
        await a.send({
          op: "publish",
          topic: `astrid.v1.session.${SESSION}.delta`,
          payload: { type: "text_delta", text: "secret-ish" },
        });
        await a.send({
          op: "publish",
          topic: "astrid.v1.elicit",
          payload: { request_id: "e1", field: "api_key" },
        });
        await a.send({
          op: "capsule",
          capsule: "evil",
          topic: "agent.v1.turn_event",
          payload: { x: 1 },
        });
        await a.waitFor(
          (l) => l.ev === "capsule_result" && l["ok"] === true,
          "capsule IPC accepted locally",
        );
        assert.equal(a.seen("agent.v1.turn_event").length, 1);
        // A marker sent after them: once B has it, B would have had them.
        await a.send({ op: "publish", topic: "astrid.v1.lifecycle.marker_1" });
        await b.waitFor(
          (l) =>
            l.ev === "seen" && l["topic"] === "astrid.v1.lifecycle.marker_1",
          "marker",
          from,
        );
        const leaked = b.lines.slice(from).filter((l) =>
          l.ev === "seen" && l["topic"] !== "astrid.v1.lifecycle.marker_1"
        );
        assert.deepEqual(leaked, []);
      },
    );

    await t.step(
      "a capsule cannot publish a cluster topic or forge another node's origin",
      async () => {
        const from = b.lines.length;
        for (
          const topic of [
            "astrid.v1.approval",
            "astrid.v1.approval.response.r-1",
            "astrid.v1.lifecycle.kernel_shutdown",
            `astrid.v1.session.${SESSION}.event`,
          ]
        ) {
          const at = a.lines.length;
          await a.send({ op: "capsule", capsule: "evil", topic });
          const r = await a.waitFor(
            (l) => l.ev === "capsule_result" && l["topic"] === topic,
            `capsule result ${topic}`,
            at,
          );
          assert.equal(r["ok"], false, topic);
          assert.equal(r["code"], "BUS_ACL_DENIED", topic);
        }
        // A capsule's message claiming another node's origin is delivered
        // locally as the capsule's own (no origin), never sent to the cluster.
        const at = a.lines.length;
        await a.send({
          op: "capsule",
          capsule: "evil",
          topic: "agent.v1.forged",
          origin: "node-b",
        });
        const local = await a.waitFor(
          (l) => l.ev === "seen" && l["topic"] === "agent.v1.forged",
          "forged capsule message",
          at,
        );
        assert.equal(local["source"], "evil");
        assert.equal(local["origin"], null);
        await a.send({ op: "publish", topic: "astrid.v1.lifecycle.marker_2" });
        await b.waitFor(
          (l) =>
            l.ev === "seen" && l["topic"] === "astrid.v1.lifecycle.marker_2",
          "marker",
          from,
        );
        assert.deepEqual(
          b.lines.slice(from).filter((l) => l.ev === "seen").map((l) =>
            l["topic"]
          ),
          ["astrid.v1.lifecycle.marker_2"],
        );
      },
    );

    await t.step(
      "a message put on NATS directly cannot spoof an origin: unsigned, wrongly signed, subject/body mismatch, node-local or replayed old ones are refused",
      async () => {
        const nc = await connect({ servers: nats.url });
        const js = jetstream(nc);
        const event = {
          id: "node-a:forged-1",
          origin: "node-a",
          topic: "astrid.v1.approval.response.r-9",
          principal: "default" as PrincipalId,
          session: null,
          payload: { decision: "allow_always" },
          sent_at: Date.now(),
        };
        const right = keyPairFromSeed(new Uint8Array(32).fill(0x11));
        const wrong = keyPairFromSeed(new Uint8Array(32).fill(0x22));
        const before = (await b.stats())["refused"] as number;
        const from = b.lines.length;
        // 1. no signature
        await js.publish(
          "astrid.ev.node-a.astrid.v1.approval.response.r-9",
          new TextEncoder().encode(JSON.stringify({ v: 1, ...event })),
        );
        // 2. signed with a key that is not the cluster's
        await js.publish(
          "astrid.ev.node-a.astrid.v1.approval.response.r-9",
          await encodeEvent({ ...event, id: "node-a:forged-2" }, wrong),
        );
        // 3. a genuine node-c message replayed under node-a's subject
        await js.publish(
          "astrid.ev.node-a.astrid.v1.approval.response.r-9",
          await encodeEvent(
            { ...event, id: "node-c:forged-3", origin: "node-c" },
            right,
          ),
        );
        // 4. a signed message whose topic is node-local (elicitation)
        await js.publish(
          "astrid.ev.node-a.astrid.v1.elicit",
          await encodeEvent(
            { ...event, id: "node-a:forged-4", topic: "astrid.v1.elicit" },
            right,
          ),
        );
        // 5. correctly signed but two days old: a replay of a captured event
        await js.publish(
          "astrid.ev.node-a.astrid.v1.lifecycle.replayed",
          await encodeEvent({
            ...event,
            id: "node-a:old-1",
            topic: "astrid.v1.lifecycle.replayed",
            sent_at: Date.now() - 2 * 86_400_000,
          }, right),
        );
        // Control: correctly signed, origin and subject agree -> delivered.
        await js.publish(
          "astrid.ev.node-c.astrid.v1.lifecycle.marker_3",
          await encodeEvent({
            ...event,
            id: "node-c:ok-1",
            origin: "node-c",
            topic: "astrid.v1.lifecycle.marker_3",
          }, right),
        );
        const ok = await b.waitFor(
          (l) =>
            l.ev === "seen" && l["topic"] === "astrid.v1.lifecycle.marker_3",
          "control message",
          from,
        );
        assert.equal(ok["origin"], "node-c");
        assert.deepEqual(
          b.lines.slice(from).filter((l) => l.ev === "seen").map((l) =>
            l["topic"]
          ),
          ["astrid.v1.lifecycle.marker_3"],
        );
        assert.equal((await b.stats())["refused"], before + 5);
        await nc.close();
      },
    );

    await t.step(
      "a node that restarts misses nothing: its durable consumer hands it what was published while it was down",
      async () => {
        await b.kill();
        for (let i = 0; i < 5; i++) {
          await a.send({
            op: "publish",
            topic: `astrid.v1.lifecycle.while_down_${i}`,
            payload: { i },
          });
        }
        await a.waitFor(
          (l) =>
            l.ev === "published" &&
            l["topic"] === "astrid.v1.lifecycle.while_down_4",
          "published",
        );
        // Let the bridge send them before B is back.
        const until = Date.now() + 10_000;
        while (((await a.stats())["sent"] as number) < 8 && Date.now() < until);
        const b2 = await startNode("node-b", nats.url);
        try {
          await b2.waitFor(
            (l) =>
              l.ev === "seen" &&
              l["topic"] === "astrid.v1.lifecycle.while_down_4",
            "the last missed event",
          );
          const got = b2.lines.filter((l) =>
            l.ev === "seen" &&
            String(l["topic"]).startsWith("astrid.v1.lifecycle.while_down_")
          ).map((l) => (l["payload"] as { i: number }).i);
          assert.deepEqual(got, [0, 1, 2, 3, 4]);
        } finally {
          await b2.exit();
        }
      },
    );

    await t.step(
      "a node that stops sends what it published before it leaves",
      async () => {
        const c = await startNode("node-c", nats.url);
        const from = a.lines.length;
        for (let i = 0; i < 20; i++) {
          await c.send({
            op: "publish",
            topic: `astrid.v1.lifecycle.last_words_${i}`,
          });
        }
        await c.exit();
        await a.waitFor(
          (l) =>
            l.ev === "seen" &&
            l["topic"] === "astrid.v1.lifecycle.last_words_19",
          "the last event of the stopped node",
          from,
        );
        assert.equal(
          a.lines.slice(from).filter((l) =>
            l.ev === "seen" &&
            String(l["topic"]).startsWith("astrid.v1.lifecycle.last_words_")
          ).length,
          20,
        );
      },
    );

    await t.step(
      "the bridge outlives a restart of nats-server: an event published while it was down arrives once it is back",
      async () => {
        const b2 = await startNode("node-b", nats.url);
        try {
          await nats.stop();
          await a.send({
            op: "publish",
            topic: "astrid.v1.lifecycle.during_outage",
            payload: { n: 1 },
          });
          await new Promise((r) => setTimeout(r, 300));
          await nats.start();
          const got = await b2.waitFor(
            (l) =>
              l.ev === "seen" &&
              l["topic"] === "astrid.v1.lifecycle.during_outage",
            "the event sent during the outage",
          );
          assert.equal(got["origin"], "node-a");
          // Still flowing both ways afterwards.
          await b2.send({ op: "publish", topic: "astrid.v1.lifecycle.after" });
          await a.waitFor(
            (l) =>
              l.ev === "seen" && l["topic"] === "astrid.v1.lifecycle.after",
            "an event after the restart",
          );
        } finally {
          await b2.exit();
        }
      },
    );

    await t.step(
      "`natsHealth()` reports a reachable server with JetStream and the events stream, and an unreachable one as CLUSTER_UNAVAILABLE",
      async () => {
        const h = await natsHealth(nats.url);
        assert.equal(h.reachable, true);
        assert.equal(h.jetstream, true);
        assert.equal(typeof h.rtt_ms, "number");
        assert.ok((h.events_stream_messages ?? 0) > 0);
        assert.equal(h.events_consumers, 3); // node-a, node-b, node-c
        const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = (l.addr as Deno.NetAddr).port;
        l.close();
        const down = await natsHealth(`nats://127.0.0.1:${port}`, {
          timeoutMs: 500,
        });
        assert.equal(down.reachable, false);
        assert.equal(down.error?.code, "CLUSTER_UNAVAILABLE");
      },
    );
  } finally {
    await a.kill();
    await b.kill();
  }
});
