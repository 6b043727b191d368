/**
 * The door test (issue 11, finding 6): walks EVERY SDK host function against
 * the real dispatcher (real gate, Deno KV, session VFS on disk, bus, local
 * HTTP server, subprocess) and fails when
 * - a host function is not classified (effect or on the reviewed pure list),
 * - an effect host function has no sample here (so a new one cannot slip by),
 * - a call with an effect — allowed or refused — leaves no decision entry in
 *   the audit chain, or a refused one has its effect anyway,
 * - a pure call writes anything to the chain (it must need no decision),
 * - a stream call (read/close of an HTTP stream decided when it opened) is
 *   not on the reviewed stream list, writes to the chain, or reaches a
 *   stream its invoke did not open.
 */
import assert from "node:assert/strict";
import { HOST_FUNCTION_NAMES } from "../../sdk/host_abi.ts";
import type { CapsuleId, PrincipalId } from "../core/ids.ts";
import { KernelError } from "../core/errors.ts";
import type { JsonValue } from "../store/store.ts";
import type { CapsuleGrants } from "../security/manifest_grant.ts";
import { type AbiFixture, makeAbi } from "./_abi_fixture_test.ts";
import { HOST_TABLE } from "./host_table.ts";
import { passDoor } from "./door.ts";
import { SESSION } from "../security/_gate_fixture_test.ts";

const P = { read: true, write: true, env: true, run: true, net: true } as const;

/** The reviewed pure list: no effect outside the capsule's own state. */
const PURE = [
  "clock_now",
  "clock_sleep",
  "config_get",
  "identity",
  "kv_delete",
  "kv_get",
  "kv_list_keys",
  "kv_set",
  "log",
  "secret_exists",
];

/** Continue an HTTP stream decided at `http_stream_open`: no new decision. */
const STREAM = ["http_stream_close", "http_stream_read"];

interface Sample {
  /** What the capsule `door` is granted for the allowed run. */
  readonly grants: Partial<CapsuleGrants>;
  /** The payload (`base` is the local HTTP server). */
  payload(base: string): JsonValue;
  /** The bus publish ACL of `door` for the allowed run. */
  readonly acl?: readonly string[];
  /** Tells whether the effect happened (absent for reads: nothing to see). */
  happened?(f: DoorFixture): Promise<boolean>;
}

type DoorFixture = AbiFixture & { hits: string[]; delivered: JsonValue[] };

async function overlayHas(f: DoorFixture, p: string): Promise<boolean> {
  return await (await f.vfs()).exists(p);
}

const EFFECTS: Record<string, Sample> = {
  fs_read: {
    grants: { fs_read: ["cwd://"] },
    payload: () => ({ path: "notes/a.md" }),
  },
  fs_exists: {
    grants: { fs_read: ["cwd://"] },
    payload: () => ({ path: "notes/a.md" }),
  },
  fs_readdir: {
    grants: { fs_read: ["cwd://"] },
    payload: () => ({ path: "notes" }),
  },
  fs_stat: {
    grants: { fs_read: ["cwd://"] },
    payload: () => ({ path: "notes/a.md" }),
  },
  fs_write: {
    grants: { fs_write: ["cwd://"] },
    payload: () => ({ path: "notes/new.md", content: "x" }),
    happened: (f) => overlayHas(f, "notes/new.md"),
  },
  fs_mkdir: {
    grants: { fs_write: ["cwd://"] },
    payload: () => ({ path: "notes/sub" }),
    happened: (f) => overlayHas(f, "notes/sub"),
  },
  fs_unlink: {
    grants: { fs_write: ["cwd://"] },
    payload: () => ({ path: "notes/a.md" }),
    happened: async (f) => !(await overlayHas(f, "notes/a.md")),
  },
  http_request: {
    grants: { net: ["127.0.0.1:PORT"] },
    payload: (base) => ({ url: `${base}/door` }),
    happened: (f) => Promise.resolve(f.hits.length > 0),
  },
  http_stream_open: {
    grants: { net: ["127.0.0.1:PORT"] },
    payload: (base) => ({ url: `${base}/door-stream` }),
    happened: (f) => Promise.resolve(f.hits.length > 0),
  },
  process_spawn: {
    // The process runs sandboxed; its write lands in the session overlay
    // (imported by its own gated file decision), never in the workspace.
    grants: { host_process: ["touch"], fs_write: ["cwd://"] },
    payload: () => ({ cmd: "touch", args: ["spawned.txt"] }),
    happened: async (f) => await (await f.vfs()).exists("spawned.txt"),
  },
  ipc_publish: {
    grants: {},
    acl: ["door.v1.*"],
    payload: () => ({ topic: "door.v1.note", payload: { n: 1 } }),
    happened: (f) => Promise.resolve(f.delivered.length > 0),
  },
  ipc_request: {
    grants: {},
    acl: ["door.v1.*"],
    payload: () => ({ topic: "door.v1.ask", payload: { n: 2 } }),
    happened: (f) => Promise.resolve(f.delivered.length > 0),
  },
  agent_delegate: {
    grants: {},
    acl: ["user.v1.prompt"],
    payload: () => ({ prompt: "a sub-task", tools: ["read_file"] }),
    happened: (f) => Promise.resolve(f.delivered.length > 0),
  },
  approval_request: {
    grants: { other: ["approval_request"] },
    payload: () => ({ action: "deploy", resource: "prod" }),
    happened: (f) => Promise.resolve(f.handler.asked.length > 0),
  },
  elicit: {
    grants: { secrets: ["API_KEY"] },
    payload: () => ({ type: "secret", key: "API_KEY" }),
    happened: (f) => Promise.resolve(f.secrets.values.size > 0),
  },
};

async function fixture(
  grants: Partial<CapsuleGrants>,
  acl: readonly string[],
  run: (f: DoorFixture, base: string) => Promise<void>,
): Promise<void> {
  const hits: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      hits.push(req.url);
      return new Response("ok");
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const net = (grants.net ?? []).map((e) =>
    e.replace("PORT", String(server.addr.port))
  );
  const abi = await makeAbi({
    withBus: true,
    policy: { allowPrivateNetworks: true },
    grants: { door: { ...grants, net } },
    answers: [{ decision: "allow_once" }],
    deps: {
      elicit: { request: () => Promise.resolve("sk-door") },
    },
  });
  const f = Object.assign(abi, { hits, delivered: [] as JsonValue[] });
  try {
    const bus = f.bus!;
    bus.registerCapsule("door" as CapsuleId, { publish: acl, subscribe: [] });
    bus.registerCapsule("peer" as CapsuleId, {
      publish: [],
      subscribe: ["door.v1.*", "user.v1.prompt"],
    });
    for (const pattern of ["door.v1.*", "user.v1.prompt"]) {
      bus.subscribe("peer" as CapsuleId, {
        pattern,
        handler: (m) => {
          f.delivered.push(m.payload);
          return { answered: true };
        },
      });
    }
    await Deno.mkdir(`${f.workspace}/notes`);
    await Deno.writeTextFile(`${f.workspace}/notes/a.md`, "a");
    await run(f, base);
  } finally {
    await f.dispose();
    await server.shutdown();
  }
}

/** One call as one invoke of capsule `door`, ended afterwards (streams close). */
async function callAndEnd(
  f: AbiFixture,
  fn: string,
  payload: JsonValue,
): Promise<JsonValue> {
  const invoke = new AbortController();
  const d = f.dispatcher("door");
  try {
    return await d.call(fn, payload, { signal: invoke.signal });
  } finally {
    invoke.abort();
    d.unload();
  }
}

/** Decision entries (not outcomes) of capsule `door`, after every pending outcome. */
async function decisions(f: AbiFixture) {
  await f.gate.flush();
  return (await f.audit.query({ principal: "default" as PrincipalId }))
    .filter((e) => e.decision !== "info" && e.capsule === "door");
}

Deno.test({
  name:
    "door: every SDK host function is classified, and every effect function has a sample in the door test",
  permissions: "none",
  fn() {
    assert.deepEqual(
      Object.keys(HOST_TABLE).sort(),
      [...HOST_FUNCTION_NAMES].sort(),
    );
    const pure = Object.entries(HOST_TABLE)
      .filter(([, v]) => v.kind === "pure").map(([k]) => k).sort();
    assert.deepEqual(pure, PURE, "the pure list changed: review it here");
    const stream = Object.entries(HOST_TABLE)
      .filter(([, v]) => v.kind === "stream").map(([k]) => k).sort();
    assert.deepEqual(stream, STREAM, "the stream list changed: review it");
    const effects = Object.entries(HOST_TABLE)
      .filter(([, v]) => v.kind === "effect").map(([k]) => k).sort();
    assert.deepEqual(effects, Object.keys(EFFECTS).sort());
  },
});

for (const [fn, sample] of Object.entries(EFFECTS)) {
  Deno.test({
    name:
      `door: ${fn} leaves an allowed decision entry when granted, and when refused a denied entry and no effect`,
    permissions: P,
    async fn() {
      // Granted: the effect happens, with its decision in the chain.
      await fixture(sample.grants, sample.acl ?? [], async (f, base) => {
        await callAndEnd(f, fn, sample.payload(base));
        const d = await decisions(f);
        assert.ok(
          d.some((e) => e.decision === "allowed"),
          `${fn}: ${JSON.stringify(d.map((e) => e.action))}`,
        );
        if (sample.happened) {
          assert.equal(await sample.happened(f), true, `${fn} happened`);
        }
      });
      // Not granted: refused, one denied entry, no effect.
      await fixture({ fs_read: ["cwd://nothing"] }, [], async (f, base) => {
        const err = await callAndEnd(f, fn, sample.payload(base)).then(
          () => null,
          (e: unknown) => e,
        );
        assert.ok(KernelError.is(err), `${fn} must be refused: ${err}`);
        const d = await decisions(f);
        assert.deepEqual(
          d.map((e) => e.decision),
          ["denied"],
          `${fn}: ${JSON.stringify(d.map((e) => e.action))}`,
        );
        if (sample.happened) {
          assert.equal(await sample.happened(f), false, `${fn} had no effect`);
        }
      });
    },
  });
}

Deno.test({
  name: "door: pure host functions need no decision and write no audit entry",
  permissions: P,
  async fn() {
    await fixture({}, [], async (f) => {
      const payloads: Record<string, JsonValue> = {
        clock_now: {},
        clock_sleep: { ms: 0 },
        config_get: { key: "X" },
        identity: {},
        kv_set: { key: "k", value: 1 },
        kv_get: { key: "k" },
        kv_list_keys: { prefix: "" },
        kv_delete: { key: "k" },
        log: { message: "hi" },
        secret_exists: { key: "API_KEY" },
      };
      for (const fn of PURE) await f.call(fn, payloads[fn]!, "door");
      assert.deepEqual(await decisions(f), []);
    });
  },
});

Deno.test({
  name:
    "door: stream host functions need no decision, write no audit entry, and reach only a stream their own invoke opened",
  permissions: P,
  async fn() {
    await fixture({ net: ["127.0.0.1:PORT"] }, [], async (f, base) => {
      const port = new URL(base).port;
      f.grants.set("door", {
        ...f.grants.get("door")!,
        net: [`127.0.0.1:${port}`],
      });
      const d = f.dispatcher("door");
      const mine = new AbortController();
      const other = new AbortController();
      try {
        const opened = await d.call("http_stream_open", {
          url: `${base}/s`,
        }, { signal: mine.signal }) as { stream_id: string };
        const before = (await decisions(f)).length;
        const id = { stream_id: opened.stream_id };
        // Another invoke of the same capsule cannot read or close it.
        for (const fn of STREAM) {
          await assert.rejects(
            d.call(fn, id, { signal: other.signal }),
            (e: unknown) => KernelError.is(e, "NOT_FOUND"),
          );
        }
        // Its own invoke reads it to the end and closes it, with no decision.
        let body = "";
        while (true) {
          const r = await d.call("http_stream_read", id, {
            signal: mine.signal,
          }) as { chunk: string; done: boolean };
          body += r.chunk;
          if (r.done) break;
        }
        assert.equal(body, "ok");
        assert.deepEqual(
          await d.call("http_stream_close", id, { signal: mine.signal }),
          { ok: true },
        );
        assert.equal((await decisions(f)).length, before);
      } finally {
        mine.abort();
        other.abort();
        d.unload();
      }
    });
  },
});

Deno.test({
  name:
    "door: what was decided is frozen — a spawn port runs only the decided argv (no argv parameter, no unconfined run), a file port refuses another mode",
  permissions: P,
  async fn() {
    const f = await makeAbi({
      grants: { door: { host_process: ["echo"], fs_read: ["cwd://"] } },
    });
    try {
      const signal = new AbortController().signal;
      const o = {
        deps: f.deps,
        caller: {
          capsule: "door" as CapsuleId,
          principal: "default" as PrincipalId,
          session: SESSION,
          workspace: f.workspace,
          principalHome: f.home,
        },
        callId: "frozen",
        signal,
        grants: f.grants.get("door"),
        takeApprovalToken: () => true,
      };
      const args = ["hi"];
      const out = await passDoor(
        { kind: "spawn", command: "echo", args },
        async (g) => {
          args.push("there"); // the caller's array changes after the decision…
          assert.deepEqual(g.args, ["hi"]); // …the decided argv does not
          // A sandboxed decision has no unconfined run.
          assert.throws(() => g.runUnconfined({ signal }), TypeError);
          const run = await g.runSandboxed({ id: "frozen", signal });
          try {
            return new TextDecoder().decode(run.output.stdout);
          } finally {
            await run.dispose();
          }
        },
        o,
      );
      assert.equal(out, "hi\n", "the port ran exactly the decided argv");
      const path = await (await f.vfs()).resolve("a.txt");
      await assert.rejects(
        passDoor(
          { kind: "file", mode: "read", path },
          (g) => g.write(new Uint8Array([1])),
          o,
        ),
        TypeError,
      );
      assert.equal(await (await f.vfs()).exists("a.txt"), false);
    } finally {
      await f.dispose();
    }
  },
});

Deno.test({
  name:
    "door: an allowed bus message is recorded, in order, ahead of the next gated effect's decision",
  permissions: P,
  async fn() {
    await fixture({ fs_read: ["cwd://"] }, ["door.v1.*"], async (f) => {
      const d = f.dispatcher("door");
      const invoke = new AbortController();
      try {
        const opts = { signal: invoke.signal };
        await d.call("ipc_publish", {
          topic: "door.v1.one",
          payload: { n: 1 },
        }, opts);
        await d.call("ipc_request", {
          topic: "door.v1.two",
          payload: { n: 2 },
        }, opts);
        // The gated read waits for its own commit; the two bus records,
        // queued before it, are committed before (or with) it.
        await d.call("fs_read", { path: "notes/a.md" }, opts);
        const chain = (await f.audit.query({
          principal: "default" as PrincipalId,
        })).filter((e) => e.capsule === "door" && e.decision !== "info");
        assert.deepEqual(
          chain.map((e) => (e.action as { type: string }).type),
          ["bus_publish", "bus_request", "capsule_file_access"],
        );
        assert.ok(
          chain[0]!.seq < chain[1]!.seq && chain[1]!.seq < chain[2]!.seq,
        );
        assert.equal(f.delivered.length, 2);
      } finally {
        invoke.abort();
        d.unload();
      }
    });
  },
});

Deno.test({
  name:
    "door: a refused bus message waits for its denied entry before the refusal reaches the capsule",
  permissions: P,
  async fn() {
    await fixture({}, [], async (f) => {
      const err = await callAndEnd(f, "ipc_publish", {
        topic: "door.v1.one",
        payload: {},
      }).then(() => null, (e: unknown) => e);
      assert.ok(KernelError.is(err));
      assert.deepEqual((await decisions(f)).map((e) => e.decision), ["denied"]);
      assert.equal(f.delivered.length, 0);
    });
  },
});
