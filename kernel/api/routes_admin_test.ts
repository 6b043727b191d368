import assert from "node:assert/strict";
import type { CapsuleId, PrincipalId, SessionId } from "../core/ids.ts";
import { KernelError } from "../core/errors.ts";
import type { AuditDecision, AuditEntry } from "../audit/audit_entry.ts";
import { editStored, type Fixture } from "../audit/_fixture_test.ts";
import { verifyExportLines } from "../audit/standalone_verify.ts";
import type { KernelHandle } from "../daemon/boot.ts";
import { startApiFixture } from "./_api_fixture_test.ts";
import type { ApiClient } from "./client.ts";
import type {
  AuditListBody,
  AuditStatsBody,
  AuditVerifyBody,
  ConfigBody,
  KeysBody,
} from "./contract_admin.ts";

const SESSION = "6f1c9a3e-0000-4000-8000-000000000001" as SessionId;

async function appendEntries(kernel: KernelHandle): Promise<AuditEntry[]> {
  const rows: [string, AuditDecision, SessionId | null, string | null][] = [
    ["file_read", "allowed", SESSION, "fs"],
    ["file_write", "denied", SESSION, "fs"],
    ["file_read", "allowed", null, "shell"],
    ["net_request", "deferred", SESSION, null],
  ];
  const out: AuditEntry[] = [];
  for (const [type, decision, session, capsule] of rows) {
    out.push(
      await kernel.security.audit.append({
        principal: kernel.principal,
        session,
        capsule: capsule as CapsuleId | null,
        call_id: null,
        action: { type, path: "/ws/x" },
        decision,
        proof: { type: "policy" },
        outcome: null,
      }),
    );
  }
  return out;
}

async function rejectsWith(
  p: Promise<unknown>,
  code: string,
): Promise<KernelError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(KernelError.is(caught), `expected ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

async function exportText(client: ApiClient): Promise<string> {
  const res = await client.raw("auditExport");
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  return await res.text();
}

Deno.test("audit list filters by session, capsule, action and decision, newest first, within limit", async () => {
  await using f = await startApiFixture({ prefix: "api-audit-list-" });
  const appended = await appendEntries(f.tk.kernel);
  const list = (query: Record<string, string>) =>
    f.client.call<AuditListBody>("auditList", { query });
  const ids = (b: AuditListBody) => b.entries.map((e) => e.id);
  const all = await list({});
  assert.ok(all.entries.length >= 4);
  assert.equal(all.entries[0]!.id, appended[3]!.id, "newest first");
  assert.deepEqual(ids(await list({ session: SESSION })), [
    appended[3]!.id,
    appended[1]!.id,
    appended[0]!.id,
  ]);
  assert.deepEqual(ids(await list({ capsule: "fs", decision: "denied" })), [
    appended[1]!.id,
  ]);
  assert.deepEqual(ids(await list({ action: "file_read", limit: "5" })), [
    appended[2]!.id,
    appended[0]!.id,
  ]);
  assert.deepEqual(ids(await list({ action: "file_read", limit: "1" })), [
    appended[2]!.id,
  ]);
});

Deno.test("audit show answers one entry by id, NOT_FOUND for an unknown id", async () => {
  await using f = await startApiFixture({ prefix: "api-audit-show-" });
  const [first] = await appendEntries(f.tk.kernel);
  const shown = await f.client.call<AuditEntry>("auditShow", {
    params: { id: first!.id },
  });
  assert.equal(shown.id, first!.id);
  assert.equal(shown.hash, first!.hash);
  await rejectsWith(
    f.client.call("auditShow", {
      params: { id: "00000000-0000-4000-8000-000000000000" },
    }),
    "NOT_FOUND",
  );
});

Deno.test("audit stats counts entries per decision and per action, with first and last time", async () => {
  await using f = await startApiFixture({ prefix: "api-audit-stats-" });
  const before = await f.client.call<AuditStatsBody>("auditStats");
  const appended = await appendEntries(f.tk.kernel);
  const s = await f.client.call<AuditStatsBody>("auditStats");
  assert.equal(s.entries, before.entries + 4);
  assert.equal(
    s.decisions["denied"] ?? 0,
    (before.decisions["denied"] ?? 0) + 1,
  );
  assert.equal(
    s.actions["file_read"] ?? 0,
    (before.actions["file_read"] ?? 0) + 2,
  );
  assert.ok(s.first_at !== null && s.first_at <= appended[0]!.timestamp);
  assert.ok(s.last_at !== null && s.last_at >= appended[3]!.timestamp);
});

Deno.test("audit verify answers ok for an intact chain and names the first edited entry", async () => {
  await using f = await startApiFixture({ prefix: "api-audit-verify-" });
  const appended = await appendEntries(f.tk.kernel);
  const ok = await f.client.call<AuditVerifyBody>("auditVerify");
  assert.equal(ok.ok, true);
  assert.equal(ok.chains[0]!.valid, true);
  assert.equal(ok.chains[0]!.first_bad, undefined);
  const victim = appended[1]!;
  await editStored(
    { store: f.tk.kernel.store } as unknown as Fixture,
    { principal: f.tk.kernel.principal as PrincipalId, seq: victim.seq },
    (b) => {
      b["decision"] = "allowed";
    },
  );
  const bad = await f.client.call<AuditVerifyBody>("auditVerify");
  assert.equal(bad.ok, false);
  assert.equal(bad.chains[0]!.first_bad?.id, victim.id);
  assert.equal(bad.chains[0]!.first_bad?.code, "HASH_MISMATCH");
});

Deno.test("audit export streams JSON lines that verify offline with the public key of /v1/keys; an edited line fails", async () => {
  await using f = await startApiFixture({ prefix: "api-audit-export-" });
  await appendEntries(f.tk.kernel);
  const keys = await f.client.call<KeysBody>("keys");
  const text = await exportText(f.client);
  assert.ok(text.endsWith("\n"));
  const lines = text.split("\n");
  const ok = verifyExportLines(lines, [keys.public_key]);
  assert.equal(ok.valid, true, ok.firstBad?.reason);
  assert.ok(ok.entriesVerified >= 4);
  const edited = [...lines];
  const entry = JSON.parse(edited[1]!);
  entry.decision = entry.decision === "denied" ? "allowed" : "denied";
  edited[1] = JSON.stringify(entry);
  const bad = verifyExportLines(edited, [keys.public_key]);
  assert.equal(bad.valid, false);
  assert.equal(bad.firstBad?.line, 2);
  assert.equal(bad.firstBad?.id, entry.id);
});

Deno.test("keys answers the runtime public key and the trusted keys, never the private key", async () => {
  await using f = await startApiFixture({ prefix: "api-keys-" });
  const res = await f.client.raw("keys");
  const text = await res.text();
  const body = JSON.parse(text) as KeysBody;
  const key = f.tk.kernel.runtimeKey;
  assert.equal(body.key_id, key.keyId);
  assert.equal(body.public_key, key.publicKey.toBase64());
  assert.equal(body.created_this_boot, true);
  assert.deepEqual(body.trusted.map((k) => k.key_id), [key.keyId]);
  const secret = key.exportSeed();
  assert.equal(secret.length, 32);
  assert.ok(!text.includes(secret.toBase64()));
  assert.ok(!text.includes(secret.toHex()));
  assert.deepEqual(Object.keys(body).sort(), [
    "created_this_boot",
    "key_id",
    "public_key",
    "trusted",
  ]);
});

Deno.test("config answers every effective value with its layer and source; secrets are redacted", async () => {
  await using f = await startApiFixture({
    prefix: "api-config-",
    config: `[model]\napi_key = "sk-very-secret"\n`,
  });
  const res = await f.client.raw("config");
  const text = await res.text();
  assert.ok(!text.includes("sk-very-secret"));
  const body = JSON.parse(text) as ConfigBody;
  const key = body.entries.find((e) => e.key === "model.api_key");
  assert.equal(key?.value, "********");
  assert.equal(key?.layer, "user");
  const mode = body.entries.find((e) => e.key === "workspace.mode");
  assert.equal(mode?.value, "autonomous");
  assert.equal(mode?.layer, "user");
});

Deno.test("bad inputs get coded 4xx answers that name no host path", async () => {
  await using f = await startApiFixture({ prefix: "api-bad-" });
  const c = f.client;
  for (
    const query of [
      { limit: "0" },
      { limit: "1001" },
      { limit: "ten" },
      { decision: "maybe" },
      { session: "../../etc" },
      { capsule: "Not A Name" },
      { action: "x;y" },
      { principal: "someone-else" },
    ]
  ) {
    await rejectsWith(c.call("auditList", { query }), "API_BAD_REQUEST");
  }
  await rejectsWith(
    c.call("auditShow", { params: { id: "not-a-uuid" } }),
    "API_BAD_REQUEST",
  );
  await rejectsWith(
    c.call("auditStats", { query: { x: "1" } }),
    "API_BAD_REQUEST",
  );
  await rejectsWith(
    c.call("capsulesRemove", { params: { name: "nothere" } }),
    "CAPSULE_NOT_FOUND",
  );
  await rejectsWith(
    c.call("capsulesUpdate", { params: { name: "nothere" } }),
    "CAPSULE_NOT_FOUND",
  );
  await rejectsWith(
    c.call("capsulesRemove", { params: { name: "../../etc" } }),
    "INVALID_ID",
  );
  for (
    const body of [
      {},
      { source: 42 },
      { source: "relative/dir" },
      { source: "npm:some-capsule" },
      { source: f.tk.root, unconfined: "yes" },
      { source: f.tk.root, extra: 1 },
    ]
  ) {
    await rejectsWith(c.call("capsulesInstall", { body }), "API_BAD_REQUEST");
  }
  const missing = await rejectsWith(
    c.call("capsulesInstall", { body: { source: `${f.tk.root}/nope` } }),
    "NOT_FOUND",
  );
  assert.ok(!missing.message.includes(f.tk.root), missing.message);
});

Deno.test("reload asks the session hub to reload every idle session", async () => {
  await using f = await startApiFixture({ prefix: "api-reload-" });
  assert.deepEqual(await f.client.call("capsulesReload"), { reloaded: true });
  assert.equal(f.reloads(), 1);
});
