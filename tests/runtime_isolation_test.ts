/**
 * End-to-end, in both engines: publishing outside the manifest's ACL through
 * the `ipc_publish` host call is an error (`BUS_ACL_DENIED`), audited, and
 * never delivered; a capsule cannot reach another capsule's KV.
 */
import assert from "node:assert/strict";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type { BusEnvelope } from "../kernel/bus/envelope.ts";
import {
  assertOk,
  assertRefused,
  ENGINES,
  makeRuntime,
  PERMS,
} from "./runtime_fixture_test.ts";

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): ipc_publish outside the manifest ACL is refused with BUS_ACL_DENIED, audited and never delivered; an allowed publish is audited too`,
    permissions: PERMS,
    async fn() {
      const f = await makeRuntime();
      const id = `${engine}-talker`;
      const mute = `${engine}-mute`;
      try {
        await f.install({
          name: id,
          engine,
          capabilities: ['ipc_publish = ["runtime.v1.*"]'],
        });
        await f.install({ name: mute, engine });
        const report = await f.boot();
        assert.deepEqual(report.refused, []);
        const seen: BusEnvelope[] = [];
        let arrived!: () => void;
        const delivered = new Promise<void>((r) => (arrived = r));
        const unsubscribe = f.runtime.bus.subscribe("kernel", {
          pattern: "**",
          handler: (m) => {
            seen.push(m);
            if (m.topic === "runtime.v1.note") arrived();
          },
        });
        try {
          const denied = [
            [id, "llm.v1.request"],
            [id, "astrid.v1.capsules_loaded"],
            // `*` is one segment: a deeper topic is not covered.
            [id, "runtime.v1.note.deeper"],
            // No ACL at all: nothing may be published.
            [mute, "runtime.v1.note"],
          ] as const;
          for (const [capsule, topic] of denied) {
            assertRefused(
              await f.hostCall(capsule, "ipc_publish", {
                topic,
                payload: { x: 1 },
              }),
              "BUS_ACL_DENIED",
            );
          }
          assert.deepEqual(
            assertOk(
              await f.hostCall(id, "ipc_publish", {
                topic: "runtime.v1.note",
                payload: { text: "hi" },
              }),
            ),
            { ok: true },
          );
          await delivered;
          // One queue per kernel subscription, in publish order: had any refused
          // message been delivered, it would have arrived first.
          assert.deepEqual(seen.map((m) => [m.source, m.topic, m.payload]), [
            [id, "runtime.v1.note", { text: "hi" }],
          ]);
          assert.equal(seen[0]!.principal, f.principal);
          assert.equal(seen[0]!.session, f.runtime.session);
          const entries = await f.kernel.security.audit.query({
            principal: f.principal,
            decision: "denied",
          });
          assert.deepEqual(
            entries.map((e) => [e.capsule, e.action]),
            denied.map(([capsule, topic]) => [capsule, {
              type: "bus_publish",
              topic,
            }]),
          );
          for (const e of entries) {
            assert.equal((e.proof as { type: string }).type, "bus_acl");
          }
          // The allowed publish — to a topic another capsule may listen on —
          // is a decision of its own, in the chain under the publisher.
          const allowed = await f.kernel.security.audit.query({
            principal: f.principal,
            decision: "allowed",
          });
          assert.deepEqual(
            allowed
              // Install approvals are in the chain too; this test reads the bus.
              .filter((e) =>
                (e.action as { type: string }).type !== "capsule_install"
              )
              .map((e) => [e.capsule, e.action, e.proof]),
            [[id, { type: "bus_publish", topic: "runtime.v1.note" }, {
              type: "bus_acl",
            }]],
          );
        } finally {
          unsubscribe();
        }
      } finally {
        await f.close();
      }
    },
  });

  Deno.test({
    name:
      `runtime (${engine}): a capsule cannot reach another capsule's KV (kv_set in A, kv_get of the same key in B is null)`,
    permissions: PERMS,
    async fn() {
      const f = await makeRuntime();
      const a = `${engine}-a`;
      const b = `${engine}-b`;
      try {
        await f.install({ name: a, engine });
        await f.install({ name: b, engine });
        assert.deepEqual((await f.boot()).refused, []);
        const kvGet = async (capsule: string, key: string) =>
          assertOk(await f.hostCall(capsule, "kv_get", { key }));
        assertOk(
          await f.hostCall(a, "kv_set", { key: "token", value: "s3cret-a" }),
        );
        assert.deepEqual(await kvGet(a, "token"), { value: "s3cret-a" });
        assert.deepEqual(await kvGet(b, "token"), { value: null });
        // Keys that name A's namespace stay inside B's own.
        for (
          const key of [
            `default:capsule:${a}:token`,
            `../${a}/token`,
            `${a}/token`,
            "*",
          ]
        ) {
          assert.deepEqual(await kvGet(b, key), { value: null }, key);
        }
        // B writing the same key does not touch A's value.
        assertOk(await f.hostCall(b, "kv_set", { key: "token", value: "b" }));
        assert.deepEqual(await kvGet(a, "token"), { value: "s3cret-a" });
        assert.deepEqual(await kvGet(b, "token"), { value: "b" });
        // Where the values live: one namespace per (principal, capsule).
        const store = f.kernel.store;
        assert.equal(
          (await store.get([`${f.principal}:capsule:${a}`, "token"]))?.value,
          "s3cret-a",
        );
        assert.equal(
          (await store.get([`${f.principal}:capsule:${b}`, "token"]))?.value,
          "b",
        );
        // After A is unloaded and B is still running, B still sees only its own.
        await f.runtime.registry.unload(a as CapsuleId);
        assert.deepEqual(await kvGet(b, "token"), { value: "b" });
      } finally {
        await f.close();
      }
    },
  });
}
