import assert from "node:assert/strict";
import type { PrincipalId, SessionId } from "../../core/ids.ts";
import { keyPairFromSeed } from "../../crypto/key_pair.ts";
import { openKv } from "../../host/open_kv.ts";
import { KvStore } from "../../store/kv_store.ts";
import { AuditLog } from "../../audit/audit_log.ts";
import { ApprovalManager } from "../../security/approval/manager.ts";
import type {
  ApprovalHandler,
  ApprovalResponse,
} from "../../security/approval/handler.ts";
import { FakeClock } from "../../testing/fake_clock.ts";
import { MemoryLogger } from "../../testing/memory_logger.ts";
import { SeededRandom } from "../../testing/seeded_random.ts";
import { parseManifest } from "../manifest/parse_manifest.ts";
import type { WorkspaceCandidate } from "./workspace_capsule.ts";
import { WorkspaceConsent } from "./workspace_consent.ts";

const PRINCIPAL = "default" as PrincipalId;
const SESSION = "00000000-0000-4000-8000-000000000001" as SessionId;

function candidate(hash: string): WorkspaceCandidate {
  const parsed = parseManifest(
    '[package]\nname = "proj"\nversion = "1.0.0"\n',
    {
      file: "Capsule.toml",
      kernelVersion: "0.1.0",
    },
  );
  if (!parsed.ok) throw new Error("bad manifest");
  return {
    dir: "/ws/.astrid/capsules/proj",
    manifest: parsed.value,
    meta: { capsule: "proj", version: "1.0.0", artifacts: {} },
    grants: {},
    hash,
  };
}

async function setup(answers: (ApprovalResponse | null)[]) {
  const store = new KvStore(await openKv(":memory:"));
  const clock = new FakeClock(1_000);
  const random = new SeededRandom(3n);
  const logger = new MemoryLogger();
  const audit = new AuditLog({
    store,
    clock,
    random,
    logger,
    keyPair: keyPairFromSeed(new Uint8Array(32).fill(2)),
  });
  const approvals = new ApprovalManager({
    store,
    clock,
    random,
    logger,
    timeoutMs: 1_000,
  });
  let asked = 0;
  const handler: ApprovalHandler = {
    isAvailable: () => true,
    request: () => {
      asked++;
      return Promise.resolve(answers.shift() ?? null);
    },
  };
  approvals.setHandler(handler);
  const make = () =>
    new WorkspaceConsent({
      store,
      approvals,
      audit,
      clock,
      random,
      logger,
      principal: PRINCIPAL,
      session: SESSION,
      workspace: "/ws",
    });
  return { store, audit, approvals, make, asked: () => asked };
}

Deno.test({
  name:
    "`WorkspaceConsent.approve()` remembers Allow Session in the instance only and Allow Workspace in the store until revoked",
  permissions: "none",
  async fn() {
    const s = await setup([
      { decision: "allow_session" },
      { decision: "allow_workspace" },
      { decision: "allow_workspace" },
    ]);
    await using _store = s.store;
    const a = s.make();
    assert.equal((await a.approve(candidate("1".repeat(64)))).ok, true);
    assert.equal((await a.approve(candidate("1".repeat(64)))).ok, true);
    assert.equal(s.asked(), 1);
    // Another runtime: a session approval is not carried over.
    const b = s.make();
    const first = await b.approve(candidate("1".repeat(64)));
    assert.equal(s.asked(), 2);
    const again = await s.make().approve(candidate("1".repeat(64)));
    assert.deepEqual(again, {
      ok: true,
      auditEntry: first.ok ? first.auditEntry : "",
      asked: false,
    });
    assert.equal(s.asked(), 2);
    await b.revoke("proj");
    assert.equal((await s.make().approve(candidate("1".repeat(64)))).ok, true);
    assert.equal(s.asked(), 3);
  },
});

Deno.test({
  name:
    "`WorkspaceConsent.approve()` refuses when nobody answers, audits it as deferred and leaves nothing queued",
  permissions: "none",
  async fn() {
    const s = await setup([null]);
    await using _store = s.store;
    const verdict = await s.make().approve(candidate("2".repeat(64)));
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.code, "APPROVAL_DEFERRED");
    assert.match(
      !verdict.ok ? verdict.reason : "",
      /workspace capsule 'proj' 1\.0\.0 from \/ws\/\.astrid\/capsules\/proj \(record 222222222222…\): no human approved it \(user did not respond\)/,
    );
    assert.deepEqual(await s.approvals.deferred.list(PRINCIPAL), []);
    const entries = await s.audit.query({ principal: PRINCIPAL });
    assert.deepEqual(entries.map((e) => e.decision), ["deferred"]);
  },
});
