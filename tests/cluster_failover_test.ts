/**
 * Sessions survive a node (issue 17, part 4): two headless servers (real
 * `deno serve` processes, each its own `ASTRID_HOME`, the same keys and the
 * same PostgreSQL `store.url`, session overlays under one shared
 * `cluster.overlay_root`) — a replayed turn runs on node A, A is SIGKILLed,
 * node B takes the session over once A's lease expired: the history, the
 * overlay write and the replay position are intact, the next turn does not
 * repeat the tool call A already ran, the audit chain verifies, and
 * `astrid cluster status` shows A stale and B alive. Then a third node, a
 * real daemon under its scoped Deno flags, takes the session over at once
 * when B stops gracefully (B released its leases), and node A, restarted,
 * takes it from the live C once C has left it idle (`session_idle_secs`).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { ApiClient, KernelError } from "../mod.ts";
import type {
  AuditListBody,
  AuditVerifyBody,
} from "../kernel/api/contract_admin.ts";
import type {
  PromptStreamEvent,
  SessionInfo,
  WorkspaceChange,
} from "../kernel/api/contract.ts";
import type { ClusterStatus } from "../kernel/cluster/cluster_status.ts";
import type { Message } from "../sdk/llm.ts";
import { AGENT, answerFirst } from "./api_fixture_test.ts";
import { runAstrid } from "./cli_fixture_test.ts";
import { astridHomePaths } from "../kernel/host/astrid_home.ts";
import { runFiles } from "../mod.ts";
import {
  clientOf,
  freePort,
  installCapsules,
  spawnDaemonProcess,
  spawnServe,
  type TempHome,
  tempHome,
  waitUntil,
} from "./daemon_fixture_test.ts";
import { pgTest, startPg } from "./pg_fixture_test.ts";
import { openPg } from "../kernel/host/open_pg.ts";
import { KvStore } from "../kernel/store/kv_store.ts";
import { FakeClock } from "../kernel/testing/fake_clock.ts";
import { SessionLeases } from "../kernel/cluster/session_leases.ts";
import { fencedStore } from "../kernel/cluster/fenced_store.ts";

const TOKEN = "cluster-test-token-0123456789abcdefghijklmn";
/**
 * Short, so the takeover comes soon; long enough that a node whose event
 * loop stalls while capsules boot (2 shared cores) still renews in time.
 */
const LEASE_SECS = 4;

/** Two turns: turn 1 writes b.txt (then answers), turn 2 only answers. */
const TRANSCRIPT = {
  turns: [
    {
      text: "Writing.",
      tool_calls: [
        { name: "write_file", arguments: { path: "b.txt", content: "beta\n" } },
      ],
    },
    { text: "Wrote b.txt." },
    { text: "Resumed on another node." },
  ],
};

interface Node {
  readonly id: string;
  readonly child: Deno.ChildProcess;
  readonly client: ApiClient;
  readonly url: string;
  readonly stderr: Promise<string>;
}

async function startNode(
  id: string,
  home: string,
  h: TempHome,
  env: Record<string, string>,
): Promise<Node> {
  const port = freePort();
  const child = spawnServe(h, port, {
    ...env,
    ASTRID_HOME: home,
    ASTRID_NODE_ID: id,
    ASTRID_SERVE_TOKEN: TOKEN,
  }, { stdout: "null" });
  const stderr = new Response(child.stderr).text();
  const url = `http://127.0.0.1:${port}`;
  const client = new ApiClient({ baseUrl: url }, TOKEN);
  let exited = false;
  child.status.then(() => (exited = true));
  await waitUntil(
    async () => {
      if (exited) throw new Error(`node ${id} exited: ${await stderr}`);
      try {
        await client.call("status");
        return true;
      } catch {
        return false;
      }
    },
    `node ${id} to serve`,
    60_000,
  );
  return { id, child, client, url, stderr };
}

async function turn(c: ApiClient, session: string, text: string) {
  const events: PromptStreamEvent[] = [];
  for await (
    const e of c.stream<PromptStreamEvent>("sessionPrompt", {
      params: { id: session },
      body: { text },
    })
  ) events.push(e);
  return events;
}

pgTest(
  "sessions across nodes on one PostgreSQL",
  async (t) => {
    await using pg = await startPg();

    await t.step(
      "fencing on PostgreSQL: two kernels' stores race for one session's lease; after a takeover the old holder's writes are refused (SESSION_LEASE_LOST) and its renewal loses the lease",
      async () => {
        await using one = new KvStore(
          await openPg({ url: pg.url, password: pg.password }),
        );
        await using two = new KvStore(
          await openPg({ url: pg.url, password: pg.password }),
        );
        const clock = new FakeClock(1_000_000);
        const session = "00000000-0000-4000-8000-0000000000f1";
        const of = (store: KvStore, node: string) =>
          new SessionLeases(store, clock, {
            node,
            principal: "default",
            ttlMs: 1000,
          });
        const a = of(one, "node-a");
        const b = of(two, "node-b");
        // Both try at once: exactly one gets it.
        const tried = await Promise.allSettled([
          a.acquire(session),
          b.acquire(session),
        ]);
        assert.equal(tried.filter((r) => r.status === "fulfilled").length, 1);
        const [winner, loser, winnerStore, loserStore] =
          tried[0]!.status === "fulfilled"
            ? [a, b, one, two]
            : [b, a, two, one];
        const held = (await winner.acquire(session)).lease;
        const fenced = fencedStore(winnerStore, { ...held, valid: () => true });
        await fenced.set(["test:history", session], "one");
        await clock.advance(1001);
        const taken = (await loser.acquire(session)).lease;
        await fencedStore(loserStore, taken).set(
          ["test:history", session],
          "two",
        );
        await assert.rejects(fenced.set(["test:history", session], "late"), {
          code: "SESSION_LEASE_LOST",
        });
        await assert.rejects(
          fenced.transact((tx) => tx.set(["test:history", session], "late")),
          { code: "SESSION_LEASE_LOST" },
        );
        assert.equal(
          (await loserStore.get(["test:history", session]))?.value,
          "two",
        );
        const lost: string[] = [];
        winner.onLost((s) => lost.push(s));
        await winner.renew();
        assert.deepEqual(lost, [session]);
      },
    );

    await t.step(
      "failover: node A is SIGKILLed after a turn; node B takes the session over once A's lease expired (refused before, SESSION_ELSEWHERE) with history, overlay write and replay position intact, no repeated tool call, a verifying audit chain; cluster status shows A stale and B alive; a daemon node C under scoped flags takes the session at once when B stops gracefully; A restarted takes it from C once C offers it idle",
      async () => {
        await using h = await tempHome();
        const shared = path.join(h.dir, "shared-overlays");
        const transcript = path.join(h.dir, "t.json");
        await Deno.writeTextFile(transcript, JSON.stringify(TRANSCRIPT));
        await Deno.mkdir(path.join(h.home, "etc"), { recursive: true });
        await Deno.writeTextFile(
          path.join(h.home, "etc", "config.toml"),
          [
            "[store]",
            `url = "${pg.url}"`,
            "[cluster]",
            `overlay_root = "${shared}"`,
            `lease_secs = ${LEASE_SECS}`,
            "[workspace]",
            `roots = ["${h.workspace}"]`,
            "",
          ].join("\n"),
        );
        const env: Record<string, string> = {
          ASTRID_STORE_PASSWORD: pg.password,
          ASTRID_PROVIDER: "replay",
          ASTRID_REPLAY_FILE: transcript,
        };
        // A and B keep their sessions until they stop or die; C offers an
        // idle session to the others after 1 s.
        const sticky = { ...env, ASTRID_CLUSTER_SESSION_IDLE_SECS: "0" };
        await installCapsules({ ...h, env: { ...h.env, ...env } }, AGENT);
        // Node B's home: the same keys, config and installed capsules.
        const homeB = path.join(h.dir, "home-b");
        const homeC = path.join(h.dir, "home-c");
        for (const to of [homeB, homeC]) {
          const cp = await new Deno.Command("cp", { args: ["-a", h.home, to] })
            .output();
          assert.ok(cp.success);
        }

        const [a, b] = await Promise.all([
          startNode("node-a", h.home, h, sticky),
          startNode("node-b", homeB, h, sticky),
        ]);
        try {
          const s = await a.client.call<SessionInfo>("sessionsCreate", {
            body: { workspace: h.workspace },
          });
          const first = await turn(a.client, s.id, "Write b");
          assert.equal(first.at(-1)?.type, "final", JSON.stringify(first));
          assert.ok(first.some((e) => e.type === "tool_result"));
          // While A lives and holds the session, B refuses it.
          await assert.rejects(
            b.client.call("sessionMessages", { params: { id: s.id } }),
            (e: unknown) =>
              KernelError.is(e, "SESSION_ELSEWHERE") &&
              /node-a/.test(e.message),
          );
          const before = await b.client.call<AuditListBody>("auditList", {
            query: { limit: "1000" },
          });

          a.child.kill("SIGKILL");
          await a.child.status;
          // B takes over once A's lease expired (≤ LEASE_SECS after its last renewal).
          let history: Message[] = [];
          await waitUntil(
            async () => {
              try {
                history = await b.client.call<Message[]>("sessionMessages", {
                  params: { id: s.id },
                });
                return true;
              } catch (e) {
                if (KernelError.is(e, "SESSION_ELSEWHERE")) return false;
                throw e;
              }
            },
            "node B to take the session over",
            20_000,
          );
          // History intact: the prompt, the tool call with its result, the answer.
          assert.equal(history[0]?.role, "user");
          assert.match(JSON.stringify(history), /write_file/);
          assert.match(JSON.stringify(history), /Wrote b\.txt/);
          // The overlay write A acknowledged is there on B.
          const diff = await b.client.call<WorkspaceChange[]>("workspaceDiff", {
            params: { id: s.id },
          });
          assert.deepEqual(diff.map((d) => `${d.change} ${d.path}`), [
            "added b.txt",
          ]);
          assert.match(diff[0]?.diff ?? "", /\+beta/);
          // The next turn continues the transcript: the write is not replayed.
          const second = await turn(b.client, s.id, "Go on");
          assert.equal(second.at(-1)?.type, "final", JSON.stringify(second));
          assert.equal(
            (second.at(-1) as { text?: string }).text,
            "Resumed on another node.",
          );
          assert.ok(!second.some((e) => e.type === "tool_call"));
          // Commit the overlay from B (approved by a client of B).
          const committing = b.client.call<{ committed: string[] }>(
            "workspaceCommit",
            { params: { id: s.id }, body: {} },
          );
          await answerFirst(b.client, s.id, "allow_once");
          assert.deepEqual((await committing).committed, ["write b.txt"]);
          assert.equal(
            await Deno.readTextFile(path.join(h.workspace, "b.txt")),
            "beta\n",
          );
          // The audit chain: nothing committed before the kill is lost, it
          // verifies, and b.txt was written into the overlay exactly once.
          const verify = await b.client.call<AuditVerifyBody>("auditVerify", {
            body: {},
          });
          assert.equal(verify.ok, true, JSON.stringify(verify));
          const after = await b.client.call<AuditListBody>("auditList", {
            query: { limit: "1000" },
          });
          const ids = new Set(after.entries.map((e) => e.id));
          for (const e of before.entries) {
            assert.ok(ids.has(e.id), `lost ${e.id}`);
          }
          // The file write of A's tool call is decided once, on A, and not again.
          const writes = after.entries.filter((e) => {
            const a = e.action as {
              type?: string;
              mode?: string;
              path?: string;
            };
            return a.type === "capsule_file_access" && a.mode === "write" &&
              a.path === path.join(h.workspace, "b.txt");
          });
          assert.equal(writes.length, 1, JSON.stringify(writes));
          assert.equal(writes[0]?.decision, "allowed");
          assert.ok(before.entries.some((e) => e.id === writes[0]?.id));

          // Operations: the CLI against B.
          const st = await runAstrid(["cluster", "status", "--json"], {
            env: { ...h.env, ASTRID_URL: b.url, ASTRID_TOKEN: TOKEN },
          });
          assert.equal(st.code, 0, st.stderr);
          const status = JSON.parse(st.stdout) as ClusterStatus;
          assert.equal(status.clustered, true);
          assert.equal(status.node_id, "node-b");
          assert.equal(status.store.reachable, true);
          assert.equal(status.nats.configured, false);
          assert.deepEqual(
            status.nodes.map((n) => [n.node_id, n.health]),
            [["node-a", "stale"], ["node-b", "alive"]],
          );
          const text = await runAstrid(["cluster", "status"], {
            env: { ...h.env, ASTRID_URL: b.url, ASTRID_TOKEN: TOKEN },
          });
          assert.equal(text.code, 0, text.stderr);
          assert.match(text.stdout, /node-a\s+stale/);
          assert.match(text.stdout, /node-b \(this\)\s+alive/);
          // Neither the store's URL (its socket path) nor its password.
          for (const out of [st.stdout, text.stdout]) {
            assert.ok(!out.includes(pg.password));
            assert.ok(!out.includes(new URL(pg.url).searchParams.get("host")!));
          }

          // A third node, a real daemon under its scoped Deno flags (the
          // store's socket and the overlay root are in them): it joins, is
          // refused B's session while B lives, and takes it at once when B
          // stops gracefully (B releases its leases).
          const hc: TempHome = {
            ...h,
            home: homeC,
            files: runFiles(astridHomePaths(homeC)),
            log: path.join(homeC, "log", "daemon.log"),
            env: {
              ...h.env,
              ...env,
              ASTRID_HOME: homeC,
              ASTRID_NODE_ID: "node-c",
              ASTRID_CLUSTER_SESSION_IDLE_SECS: "1",
            },
          };
          const daemon = await spawnDaemonProcess(hc).catch(async (e) => {
            throw new Error(
              `${e}\n${await Deno.readTextFile(hc.log).catch(() => "")}`,
            );
          });
          try {
            using c = await clientOf(hc);
            await assert.rejects(
              c.call("sessionMessages", { params: { id: s.id } }),
              { code: "SESSION_ELSEWHERE" },
            );
            b.child.kill("SIGTERM");
            assert.equal((await b.child.status).code, 0);
            const moved = await c.call<Message[]>("sessionMessages", {
              params: { id: s.id },
            });
            assert.match(JSON.stringify(moved), /Resumed on another node/);
            const st3 = await c.call<ClusterStatus>("clusterStatus");
            assert.deepEqual(
              st3.nodes.map((n) => [n.node_id, n.health]),
              [["node-a", "stale"], ["node-b", "stopped"], ["node-c", "alive"]],
            );
            // Node A comes back (same node id): C, idle on the session for
            // its idle time, offers it and A takes it while C lives.
            const back = await startNode("node-a", h.home, h, sticky);
            try {
              let again: Message[] = [];
              await waitUntil(
                async () => {
                  try {
                    again = await back.client.call<Message[]>(
                      "sessionMessages",
                      { params: { id: s.id } },
                    );
                    return true;
                  } catch (e) {
                    if (KernelError.is(e, "SESSION_ELSEWHERE")) return false;
                    throw e;
                  }
                },
                "node A to take the idle session from node C",
                20_000,
              );
              assert.match(JSON.stringify(again), /Resumed on another node/);
              for (const route of ["sessionMessages", "sessionCancel"]) {
                await assert.rejects(
                  c.call(route as "sessionMessages", { params: { id: s.id } }),
                  (e: unknown) =>
                    KernelError.is(e, "SESSION_ELSEWHERE") &&
                    /node-a/.test(e.message),
                );
              }
            } finally {
              back.client.close();
              back.child.kill("SIGTERM");
              assert.equal((await back.child.status).code, 0);
              await back.stderr;
            }
          } finally {
            const end = await daemon.stop("SIGTERM");
            assert.equal(end.code, 0, end.stderr);
          }
        } finally {
          for (const n of [a, b]) {
            n.client.close();
            try {
              n.child.kill("SIGTERM");
            } catch {
              // silent-ok: already gone
            }
            await n.child.status;
            await n.stderr;
          }
        }
      },
    );
  },
);
