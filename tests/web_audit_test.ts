/**
 * The console's audit pages against the real admin API (real kernel, real
 * chain): filtering, an entry shown escaped, verification — intact, then
 * with the first bad entry named after a stored entry was edited — and the
 * export as a JSON-lines download.
 */
import assert from "node:assert/strict";
import type { CapsuleId, PrincipalId } from "../kernel/core/ids.ts";
import type { AuditEntry } from "../kernel/audit/audit_entry.ts";
import { editStored, type Fixture } from "../kernel/audit/_fixture_test.ts";
import { startApiFixture } from "../kernel/api/_api_fixture_test.ts";
import { createConsole } from "../kernel/web/console.ts";

const ORIGIN = "http://127.0.0.1:8789";

Deno.test("web console audit: filters by action, shows an entry escaped, verifies the chain and names the first bad entry after an edit, exports JSON lines", async () => {
  await using f = await startApiFixture({ prefix: "web-audit-" });
  const kernel = f.tk.kernel;
  const entries: AuditEntry[] = [];
  for (
    const [type, path] of [["file_read", "/ws/a"], [
      "file_write",
      "/ws/<script>alert(1)</script>",
    ], ["net_request", "https://x"]]
  ) {
    entries.push(
      await kernel.security.audit.append({
        principal: kernel.principal,
        session: null,
        capsule: "fs" as CapsuleId,
        call_id: null,
        action: { type: type!, path: path! },
        decision: "allowed",
        proof: { type: "policy" },
        outcome: null,
      }),
    );
  }
  const web = createConsole({ api: f.client });
  let cookie = "";
  const go = async (path: string, init: RequestInit = {}) => {
    const r = await web.handler(
      new Request(`${ORIGIN}${path}`, {
        ...init,
        headers: { cookie, ...(init.headers ?? {}) },
        redirect: "manual",
      }),
    );
    const set = r.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0]!;
    return r;
  };
  await go(`/login?token=${web.issueLoginToken()}`);
  const list = await (await go("/audit?action=file_write")).text();
  assert.match(list, /file_write/);
  assert.doesNotMatch(list, /net_request<\/td>/, "filtered");
  const bad = entries[1]!;
  const shown = await (await go(`/audit/entries/${bad.id}`)).text();
  assert.ok(shown.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(!shown.includes("<script>alert"));
  const csrf = list.match(/name="csrf-token" content="([^"]+)"/)![1]!;
  const verify = () =>
    go("/audit/verify", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "same-origin",
      },
      body: new URLSearchParams({ csrf }).toString(),
    }).then((r) => r.text());
  assert.match(await verify(), /Verified: every chain is intact and signed\./);
  await editStored(
    { store: kernel.store } as unknown as Fixture,
    { principal: kernel.principal as PrincipalId, seq: bad.seq },
    (b) => {
      b["decision"] = "denied";
    },
  );
  const failed = await verify();
  assert.match(failed, /FAILED: a chain is broken\./);
  assert.ok(
    failed.includes(`First bad entry: #${bad.seq} ${bad.id} — HASH_MISMATCH`),
    failed,
  );
  const exported = await go("/audit/export");
  assert.equal(exported.headers.get("content-type"), "application/x-ndjson");
  assert.match(exported.headers.get("content-disposition")!, /attachment/);
  const lines = (await exported.text()).trim().split("\n");
  assert.ok(lines.length >= 3);
  assert.equal(JSON.parse(lines.at(-1)!).seq, entries.at(-1)!.seq);
});
