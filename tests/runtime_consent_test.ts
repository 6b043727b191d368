/**
 * End-to-end, issue 11 finding 2 ("anything in the workspace loads, and
 * install records prove nothing"): through the real kernel and runtime,
 * - a capsule planted in `<workspace>/.astrid/capsules/` with its own
 *   manifest and a recomputed `meta.json` does not load until the operator
 *   approves the exact record the kernel computed; the approval is asked
 *   through the approval handler, audited, persisted (not asked again), and
 *   asked again when a file changes;
 * - an installed capsule whose record is unsigned (version 1), signed by a
 *   foreign key, or carries a forged `unconfined` is refused with an error
 *   naming `meta.json`, and the refusal is audited.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import type { CapsuleId } from "../kernel/core/ids.ts";
import type {
  ApprovalHandler,
  ApprovalRequest,
  ApprovalResponse,
} from "../kernel/security/approval/handler.ts";
import { keyPairFromSeed } from "../kernel/crypto/key_pair.ts";
import { createDenoFs } from "../kernel/host/deno_fs.ts";
import { parseManifest } from "../kernel/capsule/manifest/parse_manifest.ts";
import { writeMeta } from "../kernel/capsule/manifest/write_meta.ts";
import { startRuntime } from "../kernel/daemon/runtime.ts";
import { VERSION } from "../version.ts";
import {
  ARTIFACT_FILE,
  ARTIFACTS,
  makeRuntime,
  manifestOf,
  PERMS,
  type RuntimeFixture,
} from "./runtime_fixture_test.ts";

type Obj = { [k: string]: JsonValue };

/** Answers from a script; records what it was asked. */
class Operator implements ApprovalHandler {
  readonly asked: ApprovalRequest[] = [];
  constructor(public answers: (ApprovalResponse | null)[] = []) {}
  isAvailable(): boolean {
    return true;
  }
  request(req: ApprovalRequest): Promise<ApprovalResponse | null> {
    this.asked.push(req);
    return Promise.resolve(this.answers.shift() ?? null);
  }
}

const ATTACKER = keyPairFromSeed(new Uint8Array(32).fill(0x66));

/** Plants a js capsule in the workspace, as a hostile MCP server with `cwd://` write could. */
async function plant(
  f: RuntimeFixture,
  name: string,
  capabilities: readonly string[],
): Promise<string> {
  const dir = path.join(f.workspace, ".astrid", "capsules", name);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(path.join(dir, ARTIFACT_FILE.js), ARTIFACTS.js);
  const toml = manifestOf({ name, engine: "js", capabilities });
  await Deno.writeTextFile(path.join(dir, "Capsule.toml"), toml);
  await forgeMeta(dir, toml, {});
  return dir;
}

/** A `meta.json` recomputed by someone without the runtime key. */
async function forgeMeta(
  dir: string,
  toml: string,
  extra: Record<string, JsonValue>,
): Promise<void> {
  const parsed = parseManifest(toml, {
    file: "Capsule.toml",
    kernelVersion: VERSION,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const meta = await writeMeta(createDenoFs(), {
    dir,
    manifest: parsed.value,
    now: 1,
    approval: { approved_at: 1, audit_entry: "forged" },
    signer: ATTACKER,
  });
  await Deno.writeTextFile(
    path.join(dir, "meta.json"),
    JSON.stringify({ ...meta, ...extra }),
  );
}

async function auditOf(f: RuntimeFixture, capsule: string): Promise<Obj[]> {
  return (await f.audit(capsule)).map((e) => e as unknown as Obj);
}

Deno.test({
  name:
    "runtime: a capsule planted in the workspace with a recomputed meta.json is not loaded when no human is reachable, and that is audited",
  permissions: PERMS,
  async fn() {
    const f = await makeRuntime();
    try {
      const keys = path.join(f.home, "keys");
      const dir = await plant(f, "pwn", [
        `fs_read = [${JSON.stringify(keys)}]`,
      ]);
      const report = await f.boot();
      assert.deepEqual(report.loaded, []);
      const refusal = report.refused.find((r) => r.capsule === "pwn");
      assert.equal(refusal?.code, "APPROVAL_DEFERRED");
      assert.match(refusal!.reason, /workspace capsule 'pwn'/);
      assert.ok(refusal!.reason.includes(dir), refusal!.reason);
      assert.match(refusal!.reason, /no human approved it/);
      const entries = await auditOf(f, "pwn");
      assert.ok(
        entries.some((e) =>
          e.decision === "deferred" &&
          String((e.action as Obj).capability).startsWith("workspace_load:")
        ),
        JSON.stringify(entries),
      );
      assert.ok(
        entries.some((e) =>
          e.decision === "denied" && (e.action as Obj).type === "capsule_load"
        ),
      );
      // Nothing lingers in the deferred queue: boot asks again next time.
      const queued = await f.kernel.security.approvals.deferred.list(
        f.principal,
      );
      assert.deepEqual(queued, []);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "runtime: a workspace capsule loads only after the operator approved its exact record; the approval persists and a changed file asks again",
  permissions: PERMS,
  async fn() {
    const f = await makeRuntime({ fileStore: true });
    const operator = new Operator([{ decision: "allow_workspace" }]);
    f.kernel.security.approvals.setHandler(operator);
    try {
      const dir = await plant(f, "proj", ['ipc_publish = ["proj.v1.*"]']);
      const first = await f.boot();
      assert.deepEqual(first.loaded, ["proj"]);
      assert.equal(operator.asked.length, 1);
      const asked = operator.asked[0]!;
      assert.equal(asked.risk, "high");
      assert.match(asked.summary, /workspace capsule 'proj' 1\.0\.0/);
      assert.match(
        String((asked.action as Obj).capability),
        /^workspace_load:[0-9a-f]{64}$/,
      );
      assert.deepEqual(await f.invoke("proj", "ping"), { pong: 1 });
      const approvedEntry = (await auditOf(f, "proj")).find((e) =>
        e.decision === "allowed" &&
        String((e.action as Obj).capability).startsWith("workspace_load:")
      );
      assert.ok(approvedEntry, "the approval is audited");

      // A new session of the same workspace: the unchanged record is not asked again.
      {
        await using again = await startRuntime(f.kernel, {
          workspace: f.workspace,
        });
        assert.deepEqual((await again.boot()).loaded, ["proj"]);
        assert.equal(operator.asked.length, 1);
      }
      // One changed byte: another record, asked again; denied ⇒ not loaded.
      await Deno.writeFile(
        path.join(dir, ARTIFACT_FILE.js),
        new Uint8Array([...ARTIFACTS.js, 0x0a]),
      );
      operator.answers = [{ decision: "deny" }];
      {
        await using changed = await startRuntime(f.kernel, {
          workspace: f.workspace,
        });
        const report = await changed.boot();
        assert.deepEqual(report.loaded, []);
        assert.equal(operator.asked.length, 2);
        assert.match(
          operator.asked[1]!.summary,
          /changed since it was approved/,
        );
        const r = report.refused.find((x) => x.capsule === "proj");
        assert.equal(r?.code, "APPROVAL_DENIED");
        assert.match(r!.reason, /operator denied it/);
      }
      // Allow Once: loads, but is not remembered.
      operator.answers = [{ decision: "allow_once" }, null];
      for (const expected of [["proj"], []]) {
        await using rt = await startRuntime(f.kernel, {
          workspace: f.workspace,
        });
        assert.deepEqual((await rt.boot()).loaded, expected);
      }
      assert.equal(operator.asked.length, 4);
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "runtime: an installed capsule whose record is unsigned, foreign-signed, edited or carries a forged unconfined is refused naming meta.json, and audited",
  permissions: PERMS,
  async fn() {
    const f = await makeRuntime();
    try {
      const names = ["good", "v1", "foreign", "unconfined", "regranted"];
      for (const name of names) await f.install({ name, engine: "js" });
      const dir = (n: string) => path.join(f.capsules, n);
      const meta = async (n: string) =>
        JSON.parse(await Deno.readTextFile(path.join(dir(n), "meta.json")));
      // The old, unsigned format.
      const v1 = await meta("v1");
      await Deno.writeTextFile(
        path.join(dir("v1"), "meta.json"),
        JSON.stringify({
          meta_version: 1,
          capsule: "v1",
          version: "1.0.0",
          installed_at: 1,
          updated_at: 1,
          artifacts: v1.artifacts,
        }),
      );
      // A record recomputed and signed with another key.
      await forgeMeta(
        dir("foreign"),
        manifestOf({ name: "foreign", engine: "js" }),
        {},
      );
      // A valid record with `unconfined` added (the registry used to check presence only).
      await Deno.writeTextFile(
        path.join(dir("unconfined"), "meta.json"),
        JSON.stringify({
          ...await meta("unconfined"),
          unconfined: { approved_at: 1, audit_entry: "x" },
        }),
      );
      // Grants edited in the record (the manifest is untouched).
      const regranted = await meta("regranted");
      regranted.grants.fs_read = ["*"];
      await Deno.writeTextFile(
        path.join(dir("regranted"), "meta.json"),
        JSON.stringify(regranted),
      );

      const report = await f.boot();
      assert.deepEqual(report.loaded, ["good"]);
      const refused = Object.fromEntries(
        report.refused.map((r) => [r.capsule, r]),
      );
      for (const n of names.slice(1)) {
        assert.equal(refused[n]?.code, "CAPSULE_INTEGRITY", n);
        assert.ok(
          refused[n]!.reason.includes(path.join(dir(n), "meta.json")),
          refused[n]!.reason,
        );
      }
      assert.match(refused["v1"]!.reason, /unsigned version 1/);
      assert.match(refused["foreign"]!.reason, /foreign key/);
      assert.match(
        refused["unconfined"]!.reason,
        /signature .* does not match/,
      );
      assert.match(refused["regranted"]!.reason, /signature .* does not match/);
      for (const n of names.slice(1)) {
        const denied = (await auditOf(f, n)).filter((e) =>
          e.decision === "denied" && (e.action as Obj).type === "capsule_load"
        );
        assert.equal(denied.length, 1, n);
      }
      // The good record names its audited install approval.
      const good = await meta("good");
      const installed = (await f.kernel.security.audit.query({
        principal: f.principal,
        capsule: "good" as CapsuleId,
      })).find((e) => e.id === good.approval.audit_entry);
      assert.equal((installed?.action as Obj).type, "capsule_install");
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name:
    "runtime: a workspace capsule shadowed by an installed one of the same name is not asked about and does not load",
  permissions: PERMS,
  async fn() {
    const f = await makeRuntime();
    const operator = new Operator([{ decision: "allow_once" }]);
    f.kernel.security.approvals.setHandler(operator);
    try {
      await f.install({ name: "dup", engine: "js" });
      const planted = await plant(f, "dup", ['fs_read = ["*"]']);
      const report = await f.boot();
      assert.deepEqual(report.loaded, ["dup"]);
      assert.deepEqual(report.refused, []);
      assert.equal(operator.asked.length, 0);
      assert.ok(
        f.logger.records.some((r) =>
          r.message.includes(`at ${planted} is shadowed`)
        ),
      );
    } finally {
      await f.close();
    }
  },
});
