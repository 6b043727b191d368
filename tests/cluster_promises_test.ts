/**
 * Issue 17 part 2, "every promise holds across nodes": three kernel
 * processes (`tests/fixtures/cluster_node.ts`: the real `startKernel` gate,
 * audit log, token authority, budget ledger and approval layers) share one
 * PostgreSQL database. Each step races or splits one promise across the
 * nodes: one audit chain per principal, no overspent budget, a single-use
 * token spent once, revocations honoured at once, grants applying on every
 * node, a deferred approval answered from another node, and a node that
 * loses the store mid-decision never acting without its durable decision
 * entry. One PostgreSQL cluster and one set of nodes for the whole file.
 */
import assert from "node:assert/strict";
import {
  type Cluster,
  type Reply,
  startCluster,
} from "./cluster_fixture_test.ts";
import { pgTest, startPg } from "./pg_fixture_test.ts";

const SESSION = "00000000-0000-4000-8000-000000000001";
const WS = "/work/project";
const READ = { type: "file_read", path: `${WS}/a.txt` };
const PUSH = { type: "execute_command", command: "git", args: ["push"] };
const CONFIG = `[budget]
session_max_usd = 1
per_action_max_usd = 1
`;

function ctx(principal: string, callId = "c") {
  return { principal, session: SESSION, workspace: WS, callId };
}

function okReply(r: Reply): Reply {
  assert.ok(r.ok, `${r.code}: ${r.message}`);
  return r;
}

pgTest(
  "three kernels on one PostgreSQL keep every promise of the gate",
  async (t) => {
    await using pg = await startPg();
    await using cluster: Cluster = await startCluster(pg, 3, CONFIG);
    const [a, b, c] = cluster.nodes as [
      Cluster["nodes"][0],
      Cluster["nodes"][0],
      Cluster["nodes"][0],
    ];
    const all = [a, b, c];

    await t.step(
      "concurrent audit appends for one principal from all nodes form one chain that verifies",
      async () => {
        const per = 60;
        const replies = await Promise.all(all.map((n, i) =>
          n.send("append", {
            principal: "chain",
            count: per,
            concurrency: 8,
            tag: `n${i}`,
          })
        ));
        for (const r of replies) {
          okReply(r);
          assert.equal(r.done, per);
          assert.equal(r.failed, 0);
        }
        for (const n of all) {
          const v = okReply(await n.send("verify", { principal: "chain" }));
          assert.deepEqual(v.result, {
            valid: true,
            entriesVerified: 3 * per,
          });
        }
      },
    );

    await t.step(
      "a budget raced from all nodes is spent to its limit and never beyond",
      async () => {
        // session_max_usd = 1: ten reservations of 0.1 USD fit, no more.
        const replies = await Promise.all(
          all.flatMap((n, i) =>
            Array.from({ length: 8 }, (_, j) =>
              n.send("decide", {
                action: READ,
                ctx: ctx("budget", `b${i}-${j}`),
                cost: 100_000,
              }))
          ),
        );
        const allowed = replies.filter((r) => okReply(r).allowed);
        const refused = replies.filter((r) => !r.allowed);
        assert.equal(allowed.length, 10);
        assert.ok(refused.every((r) => r.code === "BUDGET_EXCEEDED"));
        const v = okReply(await b.send("verify", { principal: "budget" }));
        assert.equal(v.result.valid, true);
      },
    );

    await t.step(
      "a single-use token raced from all nodes is consumed exactly once",
      async () => {
        const minted = okReply(
          await a.send("mint", {
            options: {
              principal: "once",
              resource: "exec://git",
              permissions: ["execute"],
              ttlMs: 3_600_000,
              scope: "persistent",
              singleUse: true,
            },
          }),
        );
        const replies = await Promise.all(
          all.flatMap((n, i) =>
            Array.from({ length: 4 }, (_, j) =>
              n.send("decide", {
                action: PUSH,
                ctx: ctx("once", `o${i}-${j}`),
              }))
          ),
        );
        const spent = replies.filter((r) =>
          okReply(r).allowed && r.proof.type === "capability"
        );
        assert.equal(spent.length, 1);
        assert.equal(spent[0]!.proof.token_id, minted.tokenId);
        assert.ok(
          replies.filter((r) => !r.allowed).every((r) =>
            r.code === "APPROVAL_DEFERRED"
          ),
        );
      },
    );

    await t.step(
      "a token revoked on one node is refused by the others at once",
      async () => {
        const minted = okReply(
          await a.send("mint", {
            options: {
              principal: "revoke",
              resource: "exec://git",
              permissions: ["execute"],
              ttlMs: 3_600_000,
              scope: "persistent",
            },
          }),
        );
        // b and c load the token into their index and verified cache.
        for (const n of [b, c]) {
          const d = okReply(
            await n.send("decide", { action: PUSH, ctx: ctx("revoke") }),
          );
          assert.equal(d.allowed, true);
          assert.equal(d.proof.token_id, minted.tokenId);
        }
        okReply(await a.send("revoke", { tokenId: minted.tokenId }));
        for (const n of [b, c]) {
          const d = okReply(
            await n.send("decide", { action: PUSH, ctx: ctx("revoke") }),
          );
          assert.equal(d.allowed, false);
          assert.equal(d.code, "APPROVAL_DEFERRED");
        }
      },
    );

    await t.step(
      "an allowance revoked on one node is refused by the others at once",
      async () => {
        const granted = okReply(
          await a.send("grant", {
            action: PUSH,
            ctx: ctx("unallow"),
            scope: "workspace",
          }),
        );
        const first = okReply(
          await b.send("decide", { action: PUSH, ctx: ctx("unallow") }),
        );
        assert.equal(first.allowed, true);
        assert.equal(first.proof.allowance_id, granted.allowanceId);
        okReply(
          await a.send("revokeAllowance", {
            principal: "unallow",
            allowanceId: granted.allowanceId,
          }),
        );
        const after = okReply(
          await b.send("decide", { action: PUSH, ctx: ctx("unallow") }),
        );
        assert.equal(after.allowed, false);
        assert.equal(after.code, "APPROVAL_DEFERRED");
      },
    );

    await t.step(
      "a deferred approval queued on one node is answered from another, exactly once, and its Allow Workspace applies on every node",
      async () => {
        // b asks first: its token index and allowance cache are loaded (empty).
        const asked = okReply(
          await b.send("decide", { action: PUSH, ctx: ctx("defer", "d1") }),
        );
        assert.equal(asked.code, "APPROVAL_DEFERRED");
        const listed = okReply(
          await c.send("deferred", { principal: "defer" }),
        );
        assert.deepEqual(listed.ids, [asked.resolutionId]);
        const answers = await Promise.all([
          c.send("resolve", {
            principal: "defer",
            resolutionId: asked.resolutionId,
            response: { decision: "allow_workspace" },
          }),
          a.send("resolve", {
            principal: "defer",
            resolutionId: asked.resolutionId,
            response: { decision: "allow_workspace" },
          }),
        ]);
        const won = answers.filter((r) => r.ok);
        assert.equal(won.length, 1);
        assert.equal(won[0]!.allowed, true);
        assert.equal(answers.find((r) => !r.ok)?.code, "DEFERRED_NOT_FOUND");
        for (const n of all) {
          const d = okReply(
            await n.send("decide", { action: PUSH, ctx: ctx("defer", "d2") }),
          );
          assert.equal(d.allowed, true, JSON.stringify(d));
          assert.equal(d.proof.type, "allowance");
        }
      },
    );

    await t.step(
      "an Allow Always answered on one node applies on the others at once",
      async () => {
        const asked: Reply[] = [];
        for (const n of all) {
          asked.push(okReply(
            await n.send("decide", { action: PUSH, ctx: ctx("always") }),
          ));
        }
        assert.ok(asked.every((r) => r.code === "APPROVAL_DEFERRED"));
        const answered = okReply(
          await a.send("resolve", {
            principal: "always",
            resolutionId: asked[0]!.resolutionId,
            response: { decision: "allow_always" },
          }),
        );
        assert.ok(answered.mintedTokenId);
        for (const n of [b, c]) {
          const d = okReply(
            await n.send("decide", { action: PUSH, ctx: ctx("always") }),
          );
          assert.equal(d.allowed, true, JSON.stringify(d));
          assert.equal(d.proof.token_id, answered.mintedTokenId);
        }
      },
    );

    await t.step(
      "a node that loses the store mid-decision refuses, and never acts without its durable decision entry",
      async () => {
        const results: Reply[] = [];
        let stopped = false;
        let restarted = false;
        let n = 0;
        const worker = async () => {
          while (!restarted || results.filter((r) => r.ok).length < 25) {
            const r = await a.send("run", {
              action: READ,
              ctx: ctx("partition", `p${n++}`),
            });
            results.push(r);
          }
        };
        const outage = (async () => {
          while (results.filter((r) => r.ok).length < 10) {
            await new Promise((r) => setTimeout(r, 5));
          }
          await pg.stop();
          stopped = true;
          while (results.filter((r) => !r.ok).length < 10) {
            await new Promise((r) => setTimeout(r, 5));
          }
          await pg.start();
          restarted = true;
        })();
        await Promise.all([worker(), worker(), worker(), worker(), outage]);
        assert.ok(stopped);
        const failures = results.filter((r) => !r.ok);
        assert.ok(failures.length >= 10);
        for (const f of failures) {
          assert.ok(
            ["AUDIT_FAILED", "STORE_UNAVAILABLE"].includes(f.code!),
            JSON.stringify(f),
          );
        }
        const effects = (await Deno.readTextFile(`${a.home}/effects.log`))
          .split("\n").filter((l) => l !== "");
        const acted = results.filter((r) => r.ok).map((r) => r.auditId);
        assert.deepEqual([...effects].sort(), [...acted].sort());
        const ids = new Set(
          okReply(await b.send("ids", { principal: "partition" })).ids,
        );
        for (const id of effects) assert.ok(ids.has(id), id);
        const v = okReply(await b.send("verify", { principal: "partition" }));
        assert.equal(v.result.valid, true);
      },
    );
  },
);
